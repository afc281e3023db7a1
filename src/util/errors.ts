// VirError: the one error type of tvirt, with libvirt's error codes, numbers and domains.

/** libvirt's virErrorNumber, by name. Append-only: numbers are part of the API. */
export const ErrorCodes = {
  OK: 0,
  INTERNAL_ERROR: 1,
  NO_MEMORY: 2,
  NO_SUPPORT: 3,
  NO_CONNECT: 5,
  INVALID_CONN: 6,
  INVALID_DOMAIN: 7,
  INVALID_ARG: 8,
  OPERATION_FAILED: 9,
  OS_TYPE: 16,
  NO_SOURCE: 19,
  NO_TARGET: 20,
  NO_NAME: 21,
  NO_OS: 22,
  NO_DEVICE: 23,
  XML_ERROR: 27,
  DOM_EXIST: 28,
  OPERATION_DENIED: 29,
  OPEN_FAILED: 30,
  READ_FAILED: 31,
  PARSE_FAILED: 32,
  CONF_SYNTAX: 33,
  WRITE_FAILED: 34,
  XML_DETAIL: 35,
  INVALID_NETWORK: 36,
  NETWORK_EXIST: 37,
  SYSTEM_ERROR: 38,
  RPC: 39,
  NO_DOMAIN: 42,
  NO_NETWORK: 43,
  INVALID_MAC: 44,
  AUTH_FAILED: 45,
  INVALID_STORAGE_POOL: 46,
  INVALID_STORAGE_VOL: 47,
  NO_STORAGE_POOL: 49,
  NO_STORAGE_VOL: 50,
  OPERATION_INVALID: 55,
  NO_INTERFACE: 57,
  INVALID_INTERFACE: 58,
  CONFIG_UNSUPPORTED: 67,
  OPERATION_TIMEOUT: 68,
  INVALID_DOMAIN_SNAPSHOT: 71,
  NO_DOMAIN_SNAPSHOT: 72,
  INVALID_STREAM: 73,
  ARGUMENT_UNSUPPORTED: 74,
  STORAGE_PROBE_FAILED: 75,
  STORAGE_POOL_BUILT: 76,
  OPERATION_ABORTED: 78,
  OPERATION_UNSUPPORTED: 84,
  AGENT_UNRESPONSIVE: 86,
  RESOURCE_BUSY: 87,
  ACCESS_DENIED: 88,
  STORAGE_VOL_EXIST: 90,
  XML_INVALID_SCHEMA: 92,
  AUTH_UNAVAILABLE: 94,
  DEVICE_MISSING: 99,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

/** Where an error comes from (libvirt's virErrorDomain, by name). */
export type ErrorDomain =
  | 'NONE'
  | 'XML'
  | 'CONF'
  | 'DOMAIN'
  | 'QEMU'
  | 'TEST'
  | 'STORAGE'
  | 'NETWORK'
  | 'DAEMON'
  | 'RPC'
  | 'API'
  | 'CLI'
  | 'HOST';

/** HTTP status for each code, used by the one error->HTTP mapping in api/. */
export const httpStatusOf: Partial<Record<ErrorCode, number>> = {
  INVALID_ARG: 400,
  XML_ERROR: 400,
  XML_DETAIL: 400,
  XML_INVALID_SCHEMA: 400,
  CONFIG_UNSUPPORTED: 400,
  INVALID_MAC: 400,
  ARGUMENT_UNSUPPORTED: 400,
  AUTH_FAILED: 401,
  OPERATION_DENIED: 403,
  ACCESS_DENIED: 403,
  NO_DOMAIN: 404,
  NO_NETWORK: 404,
  NO_STORAGE_POOL: 404,
  NO_STORAGE_VOL: 404,
  NO_INTERFACE: 404,
  NO_DOMAIN_SNAPSHOT: 404,
  DOM_EXIST: 409,
  NETWORK_EXIST: 409,
  STORAGE_VOL_EXIST: 409,
  OPERATION_INVALID: 409,
  RESOURCE_BUSY: 409,
  STORAGE_POOL_BUILT: 409,
  OPERATION_ABORTED: 409,
  OPERATION_UNSUPPORTED: 501,
  NO_SUPPORT: 501,
  OPERATION_TIMEOUT: 504,
};

/** The one error class. `message` is what virsh would print after "error: ". */
export class VirError extends Error {
  readonly code: ErrorCode;
  readonly domain: ErrorDomain;
  constructor(code: ErrorCode, message: string, options: { domain?: ErrorDomain; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'VirError';
    this.code = code;
    this.domain = options.domain ?? 'NONE';
  }
  /** libvirt's numeric error code. */
  get number(): number {
    return ErrorCodes[this.code];
  }
  toJSON(): { code: ErrorCode; number: number; domain: ErrorDomain; message: string } {
    return { code: this.code, number: this.number, domain: this.domain, message: this.message };
  }
}

/** Shorthand for a CONF-domain error, the common case in src/conf. */
export function confError(code: ErrorCode, message: string): VirError {
  return new VirError(code, message, { domain: 'CONF' });
}

/** True when `e` is a VirError, optionally with the given code. */
export function isVirError(e: unknown, code?: ErrorCode): e is VirError {
  return e instanceof VirError && (code === undefined || e.code === code);
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EISDIR: 'Is a directory',
  ENOTDIR: 'Not a directory',
  EEXIST: 'File exists',
  ENOSPC: 'No space left on device',
  ECONNREFUSED: 'Connection refused',
};

/** An OS error as the C library's strerror words it ("No such file or directory"), as libvirt prints. */
export function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return (err?.code && ERRNO_TEXT[err.code]) || (err instanceof Error ? err.message : String(e));
}
