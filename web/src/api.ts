// The browser's client of the tvirt REST API (same origin; the session cookie authenticates).
// Every failure becomes an ApiError carrying the server's code, number, domain and HTTP status.

export type DomainStateName =
  | 'nostate'
  | 'running'
  | 'blocked'
  | 'paused'
  | 'shutdown'
  | 'shutoff'
  | 'crashed'
  | 'pmsuspended';

export interface DomainSummary {
  id: number | null;
  name: string;
  uuid: string;
  persistent: boolean;
  autostart: boolean;
  title?: string;
  state: DomainStateName;
  reason: string;
}

export interface DomainInfo extends DomainSummary {
  osType: string;
  maxMemoryKiB: number;
  memoryKiB: number;
  vcpus: number;
  cpuTimeNs: number;
}

export interface NodeInfo {
  model: string;
  memoryKiB: number;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

export interface VersionInfo {
  library: string;
  hypervisorType: string;
  hypervisor: string;
}

export interface TvirtEvent {
  kind: 'domain-lifecycle' | 'job' | 'network-lifecycle' | 'pool-lifecycle';
  name: string;
  uuid?: string;
  event: string;
  detail?: string;
  progress?: { processed: number; total: number };
  jobId?: string;
  timestamp: number;
}

/** One interface of a running guest and its addresses (virsh domifaddr). */
export interface GuestInterfaceAddresses {
  /** The host-side device (<target dev>), or '-'. */
  name: string;
  /** MAC address, as in the guest's XML. */
  hwaddr: string;
  addrs: { type: 'ipv4' | 'ipv6'; addr: string; prefix: number }[];
}

export type Role = 'rw' | 'ro';

export class ApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    readonly number?: number,
    readonly domain?: string,
  ) {
    super(message);
  }

  /** The detail behind the message, for the expandable part of an error box. */
  get detail(): string {
    const parts = [`code ${this.code}${this.number === undefined ? '' : ` (${this.number})`}`];
    if (this.domain) parts.push(`from ${this.domain}`);
    if (this.status) parts.push(`HTTP ${this.status}`);
    return parts.join(', ');
  }
}

/** Called when a request finds the session gone (the app shows the login page again). */
let onUnauthorized: () => void = () => {};
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

export function toApiError(e: unknown): ApiError {
  if (e instanceof ApiError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new ApiError(`cannot reach tvirtd: ${msg}`, 0, 'NO_CONNECT');
}

export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (e) {
    throw toApiError(e);
  }
  const text = await res.text();
  if (!res.ok) {
    let err: ApiError;
    try {
      const e = (
        JSON.parse(text) as { error: { code: string; number: number; domain: string; message: string } }
      ).error;
      err = new ApiError(e.message, res.status, e.code, e.number, e.domain);
    } catch {
      err = new ApiError(
        `unexpected HTTP ${res.status} from tvirtd: ${text.slice(0, 200)}`,
        res.status,
        'RPC',
      );
    }
    if (res.status === 401 && path.startsWith('/v1/')) onUnauthorized();
    throw err;
  }
  return (text ? JSON.parse(text) : null) as T;
}

const enc = encodeURIComponent;

export const api = {
  session: () => request<{ role: Role; name?: string }>('GET', '/v1/session'),
  login: (token: string) => request<{ role: Role; name?: string }>('POST', '/login', { token }),
  logout: () => request<{ ok: boolean }>('POST', '/logout'),
  version: () => request<VersionInfo>('GET', '/v1/version'),
  host: () => request<{ hostname: string; nodeInfo: NodeInfo }>('GET', '/v1/host'),
  capabilities: () => request<{ xml: string }>('GET', '/v1/capabilities'),
  domains: () => request<{ domains: DomainSummary[] }>('GET', '/v1/domains'),
  domain: (ref: string) => request<DomainSummary>('GET', `/v1/domains/${enc(ref)}`),
  info: (ref: string) => request<DomainInfo>('GET', `/v1/domains/${enc(ref)}/info`),
  xml: (ref: string, inactive = false) =>
    request<{ xml: string }>('GET', `/v1/domains/${enc(ref)}/xml${inactive ? '?inactive' : ''}`),
  define: (xml: string) => request<DomainSummary>('POST', '/v1/domains', { xml }),
  undefine: (ref: string, removeAllStorage: boolean) =>
    request<{ becameTransient: boolean }>(
      'DELETE',
      `/v1/domains/${enc(ref)}${removeAllStorage ? '?removeAllStorage' : ''}`,
    ),
  action: (ref: string, action: DomainAction) =>
    request<unknown>('POST', `/v1/domains/${enc(ref)}/actions/${action}`, {}),
  setAutostart: (ref: string, autostart: boolean) =>
    request<{ ok: boolean }>('PUT', `/v1/domains/${enc(ref)}/autostart`, { autostart }),
  /**
   * A running guest's interfaces that have addresses (from its networks' DHCP leases); interfaces
   * without one are left out. 409 OPERATION_INVALID when the guest is not running.
   */
  interfaceAddresses: (ref: string, source: 'lease' | 'agent' | 'arp' = 'lease') =>
    request<{ interfaces: GuestInterfaceAddresses[] }>(
      'GET',
      `/v1/domains/${enc(ref)}/interface-addresses?source=${source}`,
    ),
};

export type DomainAction = 'start' | 'shutdown' | 'reboot' | 'reset' | 'destroy' | 'suspend' | 'resume';

/** ws:// or wss:// URL of an API path on this origin. */
export function wsUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
}

export interface NetworkSummary {
  name: string;
  uuid: string;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  bridge?: string;
}

export interface NetworkLease {
  iface: string;
  expiryTime: number;
  type: 'ipv4' | 'ipv6';
  mac?: string;
  ipaddr: string;
  prefix: number;
  hostname?: string;
}

export interface StoragePoolInfo {
  name: string;
  uuid: string;
  type: string;
  active: boolean;
  persistent: boolean;
  autostart: boolean;
  state?: string;
  capacity?: number;
  allocation?: number;
  available?: number;
}

export interface StorageVolInfo {
  name: string;
  pool: string;
  key: string;
  path: string;
  type: string;
  capacity: number;
  allocation: number;
  format?: string;
}

const pool = (p: string) => `/v1/storage/pools/${enc(p)}`;

export const netApi = {
  list: () => request<{ networks: NetworkSummary[] }>('GET', '/v1/networks'),
  define: (xml: string) => request<NetworkSummary>('POST', '/v1/networks', { xml }),
  action: (name: string, action: 'start' | 'destroy') =>
    request<unknown>('POST', `/v1/networks/${enc(name)}/actions/${action}`, {}),
  undefine: (name: string) => request<unknown>('DELETE', `/v1/networks/${enc(name)}`),
  setAutostart: (name: string, autostart: boolean) =>
    request<unknown>('PUT', `/v1/networks/${enc(name)}/autostart`, { autostart }),
  leases: (name: string) => request<{ leases: NetworkLease[] }>('GET', `/v1/networks/${enc(name)}/leases`),
  xml: (name: string) => request<{ xml: string }>('GET', `/v1/networks/${enc(name)}/xml`),
};

export const storageApi = {
  pools: () => request<{ pools: StoragePoolInfo[] }>('GET', '/v1/storage/pools'),
  poolInfo: (name: string) => request<StoragePoolInfo>('GET', `${pool(name)}/info`),
  definePool: (xml: string) => request<StoragePoolInfo>('POST', '/v1/storage/pools', { xml }),
  poolAction: (name: string, action: 'start' | 'destroy' | 'build' | 'refresh', body: object = {}) =>
    request<unknown>('POST', `${pool(name)}/actions/${action}`, body),
  undefinePool: (name: string) => request<unknown>('DELETE', pool(name)),
  volumes: (name: string) => request<{ volumes: StorageVolInfo[] }>('GET', `${pool(name)}/volumes`),
  createVolume: (name: string, xml: string, tag?: string) =>
    request<StorageVolInfo>('POST', `${pool(name)}/volumes`, { xml, ...(tag ? { tag } : {}) }),
  volumeByPath: (path: string) => request<StorageVolInfo>('GET', `/v1/storage/volumes?path=${enc(path)}`),
  volumeXml: (name: string, vol: string) =>
    request<{ xml: string }>('GET', `${pool(name)}/volumes/${enc(vol)}/xml`),
  deleteVolume: (name: string, vol: string) =>
    request<unknown>('DELETE', `${pool(name)}/volumes/${enc(vol)}`),
};

/**
 * Uploads a file into a volume (PUT .../content) with upload progress; `tag` names the daemon job
 * (its uuid), so it can be cancelled through the jobs list. Resolves when the server has it all.
 */
export function uploadVolume(
  poolName: string,
  vol: string,
  file: Blob,
  tag: string,
  onProgress: (sent: number, total: number) => void,
): { done: Promise<void>; abort: () => void } {
  const xhr = new XMLHttpRequest();
  const done = new Promise<void>((resolve, reject) => {
    xhr.open('PUT', `${pool(poolName)}/volumes/${enc(vol)}/content?tag=${enc(tag)}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.onprogress = (e) => onProgress(e.loaded, e.total || file.size);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      try {
        const e = (
          JSON.parse(xhr.responseText) as {
            error: { code: string; number: number; domain: string; message: string };
          }
        ).error;
        reject(new ApiError(e.message, xhr.status, e.code, e.number, e.domain));
      } catch {
        reject(new ApiError(`upload failed: HTTP ${xhr.status}`, xhr.status, 'RPC'));
      }
    };
    xhr.onerror = () =>
      reject(new ApiError('upload failed: the connection to tvirtd broke', 0, 'NO_CONNECT'));
    xhr.onabort = () => reject(new ApiError('upload cancelled', 0, 'OPERATION_ABORTED'));
    xhr.send(file);
  });
  return { done, abort: () => xhr.abort() };
}

export interface CloneDiskReport {
  target: string;
  kind: 'copy' | 'overlay';
  source: string;
  dest: string;
  bytes: number;
}

export interface ClonePlan {
  name: string;
  disks: CloneDiskReport[];
  kept: { target: string; reason: string }[];
  warnings: string[];
}

export const cloneApi = {
  plan: (ref: string, opts: { name?: string; linked?: boolean }) =>
    request<ClonePlan>('POST', `/v1/domains/${enc(ref)}/clone`, { ...opts, dryRun: true }),
  start: (ref: string, opts: { name: string; linked: boolean; start: boolean }) =>
    request<{ jobId: string }>('POST', `/v1/domains/${enc(ref)}/clone`, opts),
  job: (id: string) =>
    request<{ state: string; error?: { message: string }; progress?: { processed: number; total: number } }>(
      'GET',
      `/v1/jobs/${enc(id)}`,
    ),
  cancel: (id: string) => request<unknown>('DELETE', `/v1/jobs/${enc(id)}`),
};

export const resourceApi = {
  setVcpus: (ref: string, count: number, maximum = false) =>
    request<unknown>('PUT', `/v1/domains/${enc(ref)}/vcpus`, {
      count,
      config: true,
      ...(maximum ? { maximum } : {}),
    }),
  setMemory: (ref: string, kib: number) =>
    request<unknown>('PUT', `/v1/domains/${enc(ref)}/memory`, { kib, config: true }),
  setMaxMemory: (ref: string, kib: number) =>
    request<unknown>('PUT', `/v1/domains/${enc(ref)}/max-memory`, { kib, config: true }),
};
