// libvirt's message prefixes (virErrorMsg): "Requested operation is not valid: ...", "operation
// failed: ...". The conf layer and the network driver throw bare messages; front ends show them
// the way virsh does.
import { VirError } from '../../util/errors.js';

const prefixes: Partial<Record<VirError['code'], string>> = {
  INTERNAL_ERROR: 'internal error: ',
  NO_SUPPORT: 'this function is not supported by the connection driver: ',
  OPERATION_FAILED: 'operation failed: ',
  OPERATION_INVALID: 'Requested operation is not valid: ',
  OPERATION_UNSUPPORTED: 'Operation not supported: ',
  CONFIG_UNSUPPORTED: 'unsupported configuration: ',
  INVALID_ARG: 'invalid argument: ',
  NO_NETWORK: 'Network not found: ',
  NO_INTERFACE: 'Interface not found: ',
  XML_ERROR: 'XML error: ',
};

/** The error with libvirt's prefix for its code added to the message (once); other errors unchanged. */
export function withLibvirtPrefix(e: unknown): unknown {
  if (!(e instanceof VirError)) return e;
  const p = prefixes[e.code];
  if (!p || e.message.startsWith(p)) return e;
  return new VirError(e.code, p + e.message, { domain: e.domain, cause: e });
}

/** Runs `f`, rethrowing its errors with libvirt's prefixes. */
export async function prefixed<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    throw withLibvirtPrefix(e);
  }
}
