// The OpenAPI 3.1 document of the v1 REST + WebSocket API, served as GET /v1/openapi.json. It is
// written by hand next to the route tables (routes*.ts); openapi.test.ts checks that every route is
// described (method, path, x-tvirt-access) and nothing else, so a new route needs its entry here.
// Schemas follow the TypeScript types of src/drivers/connection.ts and the types it re-exports.
import type { PoolType } from '../conf/storage/index.js';
import type { JobInfo, JobState } from '../daemon/jobs.js';
import type {
  DomainStateName,
  NetworkUpdateCommand,
  NetworkUpdateSection,
  StoragePoolStateName,
  StorageVolType,
  TvirtEvent,
  WipeAlgorithm,
} from '../drivers/connection.js';
import { ErrorCodes, type ErrorDomain, httpStatusOf } from '../util/errors.js';
import { SPARSE_CONTENT_TYPE } from './sparse-stream.js';

// ---- The subset of OpenAPI 3.1 this document uses ----

type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

export interface Reference {
  $ref: string;
  description?: string;
}

export interface SchemaObject {
  type?: JsonType | JsonType[];
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: readonly (string | number | boolean | null)[];
  const?: string | number | boolean;
  allOf?: Schema[];
  oneOf?: Schema[];
  minimum?: number;
  format?: string;
  contentMediaType?: string;
}

export type Schema = SchemaObject | Reference;

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  description?: string;
  schema: Schema;
  style?: 'simple' | 'form';
  explode?: boolean;
}

export interface MediaType {
  schema: Schema;
}

export interface RequestBody {
  description?: string;
  required?: boolean;
  content: Record<string, MediaType>;
}

export interface Response {
  description: string;
  content?: Record<string, MediaType>;
  headers?: Record<string, { description: string; schema: Schema }>;
}

export type Access = 'ro' | 'rw';
export type HttpMethod = 'get' | 'put' | 'post' | 'delete';

export interface Operation {
  operationId: string;
  summary: string;
  description?: string;
  tags: string[];
  parameters?: Parameter[];
  requestBody?: RequestBody;
  responses: Record<string, Response | Reference>;
  security?: Record<string, string[]>[];
  /** The role the call needs: 'ro' (read-only credentials may call it) or 'rw'. */
  'x-tvirt-access': Access;
  /** A WebSocket route (GET with Upgrade: websocket, answered 101). */
  'x-tvirt-websocket'?: true;
}

export type PathItem = Partial<Record<HttpMethod, Operation>>;

export interface SecurityScheme {
  type: 'http' | 'apiKey' | 'mutualTLS';
  scheme?: string;
  name?: string;
  in?: 'query' | 'header';
  description: string;
}

export interface OpenApiDocument {
  openapi: '3.1.0';
  info: {
    title: string;
    version: string;
    description: string;
    license: { name: string; identifier: string };
  };
  servers: { url: string; description: string; variables?: Record<string, { default: string }> }[];
  tags: { name: string; description: string }[];
  security: Record<string, string[]>[];
  paths: Record<string, PathItem>;
  components: {
    schemas: Record<string, Schema>;
    responses: Record<string, Response>;
    securitySchemes: Record<string, SecurityScheme>;
  };
}

// ---- Enumerations, checked against the TypeScript unions (a missing or extra key fails to compile) ----

const keys = <K extends string>(r: Record<K, true>): K[] => Object.keys(r) as K[];

const DOMAIN_STATES = keys<DomainStateName>({
  nostate: true,
  running: true,
  blocked: true,
  paused: true,
  shutdown: true,
  shutoff: true,
  crashed: true,
  pmsuspended: true,
});
const POOL_TYPES = keys<PoolType>({
  dir: true,
  fs: true,
  netfs: true,
  logical: true,
  disk: true,
  iscsi: true,
  'iscsi-direct': true,
  scsi: true,
  mpath: true,
  rbd: true,
  sheepdog: true,
  gluster: true,
  zfs: true,
  vstorage: true,
});
const POOL_STATES = keys<StoragePoolStateName>({
  inactive: true,
  building: true,
  running: true,
  degraded: true,
  inaccessible: true,
});
const VOL_TYPES = keys<StorageVolType>({
  file: true,
  block: true,
  dir: true,
  network: true,
  netdir: true,
  ploop: true,
});
const WIPE_ALGORITHMS = keys<WipeAlgorithm>({
  zero: true,
  nnsa: true,
  dod: true,
  bsi: true,
  gutmann: true,
  schneier: true,
  pfitzner7: true,
  pfitzner33: true,
  random: true,
  trim: true,
});
const JOB_STATES = keys<JobState>({
  queued: true,
  running: true,
  completed: true,
  failed: true,
  cancelled: true,
});
const JOB_KINDS = keys<JobInfo['kind']>({
  domain: true,
  network: true,
  pool: true,
  volume: true,
  other: true,
});
const EVENT_KINDS = keys<TvirtEvent['kind']>({
  'domain-lifecycle': true,
  job: true,
  'network-lifecycle': true,
  'pool-lifecycle': true,
});
const NET_UPDATE_COMMANDS = keys<NetworkUpdateCommand>({
  'add-first': true,
  'add-last': true,
  delete: true,
  modify: true,
});
const NET_UPDATE_SECTIONS = keys<NetworkUpdateSection>({
  bridge: true,
  domain: true,
  ip: true,
  'ip-dhcp-host': true,
  'ip-dhcp-range': true,
  forward: true,
  'forward-interface': true,
  'forward-pf': true,
  portgroup: true,
  'dns-host': true,
  'dns-txt': true,
  'dns-srv': true,
});
const ERROR_DOMAINS = keys<ErrorDomain>({
  NONE: true,
  XML: true,
  CONF: true,
  DOMAIN: true,
  QEMU: true,
  TEST: true,
  STORAGE: true,
  NETWORK: true,
  DAEMON: true,
  RPC: true,
  API: true,
  CLI: true,
  HOST: true,
});

// ---- Schema helpers ----

const ref = (name: string): Reference => ({ $ref: `#/components/schemas/${name}` });
const str = (description?: string): SchemaObject => ({
  type: 'string',
  ...(description ? { description } : {}),
});
const int = (description?: string, minimum?: number): SchemaObject => ({
  type: 'integer',
  ...(minimum !== undefined ? { minimum } : {}),
  ...(description ? { description } : {}),
});
const bool = (description?: string): SchemaObject => ({
  type: 'boolean',
  ...(description ? { description } : {}),
});
const arr = (items: Schema, description?: string): SchemaObject => ({
  type: 'array',
  items,
  ...(description ? { description } : {}),
});
const oneOfStr = (values: readonly string[], description?: string): SchemaObject => ({
  type: 'string',
  enum: values,
  ...(description ? { description } : {}),
});

/**
 * An object schema. A property name ending in '?' is optional; the others are required.
 * Extra properties are not forbidden (clients must ignore fields they do not know).
 */
function obj(props: Record<string, Schema>, description?: string): SchemaObject {
  const properties: Record<string, Schema> = {};
  const required: string[] = [];
  for (const [k, v] of Object.entries(props)) {
    const name = k.endsWith('?') ? k.slice(0, -1) : k;
    properties[name] = v;
    if (!k.endsWith('?')) required.push(name);
  }
  return {
    type: 'object',
    properties,
    ...(required.length ? { required } : {}),
    ...(description ? { description } : {}),
  };
}

const extend = (base: string, props: Record<string, Schema>, description?: string): SchemaObject => ({
  allOf: [ref(base), obj(props)],
  ...(description ? { description } : {}),
});

const progress = obj({
  processed: int('bytes (or units) done', 0),
  total: int('bytes (or units) in all', 0),
});

const modifyFlagsBody = {
  'config?': bool('change the persistent definition'),
  'live?': bool('change the running domain'),
  'current?': bool('whichever of live/config applies to the current state (the default)'),
};

// ---- Components ----

const schemas: Record<string, Schema> = {
  Ok: obj({ ok: { type: 'boolean', const: true } }, 'The call succeeded and has nothing to return.'),
  Xml: obj(
    { xml: str('libvirt XML') },
    'An XML document. Ask with `Accept: application/xml` to get the XML itself instead.',
  ),
  Error: obj(
    {
      error: obj({
        code: oneOfStr(Object.keys(ErrorCodes), "libvirt's error code name (virErrorNumber)"),
        number: int("libvirt's error number"),
        domain: oneOfStr(ERROR_DOMAINS, "where the error comes from (libvirt's virErrorDomain)"),
        message: str('what virsh prints after "error: "'),
      }),
    },
    'Every error, whatever the status (src/api/wire.ts errorResponse).',
  ),
  VersionInfo: obj({
    library: str("tvirt's version"),
    hypervisorType: str('QEMU, Test'),
    hypervisor: str('hypervisor version, e.g. 7.2.0'),
  }),
  NodeInfo: obj({
    model: str(),
    memoryKiB: int(undefined, 0),
    cpus: int(undefined, 0),
    mhz: int(undefined, 0),
    nodes: int(undefined, 0),
    sockets: int(undefined, 0),
    cores: int(undefined, 0),
    threads: int(undefined, 0),
  }),
  DomainState: obj(
    {
      state: oneOfStr(DOMAIN_STATES),
      reason: str("libvirt's reason word: booted, unpaused, user, destroyed, shutdown, crashed ..."),
    },
    'A state with its reason (virsh domstate --reason).',
  ),
  DomainSummary: extend(
    'DomainState',
    {
      id: { type: ['integer', 'null'], description: 'runtime id while active, otherwise null' },
      name: str(),
      uuid: str(),
      persistent: bool(),
      autostart: bool(),
      'title?': str(),
    },
    'One domain as `list` shows it.',
  ),
  DomainInfo: extend(
    'DomainSummary',
    {
      osType: str(),
      maxMemoryKiB: int(undefined, 0),
      memoryKiB: int(undefined, 0),
      vcpus: int(undefined, 0),
      cpuTimeNs: int(undefined, 0),
      managedSave: bool(),
      'securityModel?': str(),
      'securityDoi?': str(),
      'securityLabel?': obj({ label: str(), enforcing: bool() }),
    },
    'What `dominfo` shows.',
  ),
  NetworkSummary: obj(
    {
      name: str(),
      uuid: str(),
      active: bool(),
      persistent: bool(),
      autostart: bool(),
      'bridge?': str('the bridge guests join'),
    },
    'One row of `net-list`.',
  ),
  NetworkInfo: {
    allOf: [ref('NetworkSummary')],
    description: '`net-info` (the same fields as NetworkSummary).',
  },
  DomainInterfaceAddresses: obj(
    {
      name: str("the host-side device (<target dev>), or '-'"),
      hwaddr: str('MAC address'),
      addrs: arr(obj({ type: oneOfStr(['ipv4', 'ipv6']), addr: str(), prefix: int(undefined, 0) })),
    },
    'One interface of a running domain and its addresses (virDomainInterface).',
  ),
  NetworkLease: obj(
    {
      iface: str('the bridge the lease was given on'),
      expiryTime: int('seconds since the epoch (0 = infinite)', 0),
      type: oneOfStr(['ipv4', 'ipv6']),
      'mac?': str(),
      'iaid?': str(),
      ipaddr: str(),
      prefix: int(undefined, 0),
      'hostname?': str(),
      'clientid?': str(),
    },
    'One DHCP lease (virNetworkDHCPLease).',
  ),
  HostInterface: obj(
    {
      name: str(),
      state: str(),
      'mac?': str(),
      'kind?': str('bridge, veth, tun ...; absent for a plain NIC'),
      'master?': str('the bridge this interface is a port of'),
      addresses: arr(str()),
      'ports?': arr(str(), "a bridge's ports"),
    },
    'One row of `iface-list`.',
  ),
  StoragePoolSummary: obj(
    {
      name: str(),
      uuid: str(),
      type: oneOfStr(POOL_TYPES),
      active: bool(),
      persistent: bool(),
      autostart: bool(),
    },
    'One pool as `pool-list` shows it.',
  ),
  StoragePoolInfo: extend(
    'StoragePoolSummary',
    {
      state: oneOfStr(POOL_STATES),
      capacity: int('bytes (0 while inactive)', 0),
      allocation: int('bytes', 0),
      available: int('bytes', 0),
    },
    'What `pool-info` shows.',
  ),
  StorageVolSummary: obj(
    { name: str(), pool: str(), key: str(), path: str(), type: oneOfStr(VOL_TYPES) },
    'One volume as `vol-list` shows it.',
  ),
  StorageVolInfo: extend(
    'StorageVolSummary',
    {
      capacity: int('bytes', 0),
      allocation: int('bytes', 0),
      'physical?': int('bytes the file takes (its length)', 0),
      'format?': str('raw, qcow2 ...'),
      'backingStore?': obj({ path: str(), 'format?': str() }),
    },
    'What `vol-info` shows.',
  ),
  JobInfo: obj(
    {
      id: str(),
      object: str('the serialization key, e.g. domain:UUID'),
      operation: str('start, shutdown, clone, vol-upload ...'),
      kind: oneOfStr(JOB_KINDS),
      name: str(),
      'uuid?': str('the object uuid, or the caller-given tag'),
      state: oneOfStr(JOB_STATES),
      'progress?': progress,
      cancellable: bool(),
      createdAt: int('ms since the epoch', 0),
      'startedAt?': int('ms since the epoch', 0),
      'endedAt?': int('ms since the epoch', 0),
      'error?': obj({ code: str(), message: str() }),
    },
    'A daemon job (one modifying job per object at a time, FIFO).',
  ),
  CloneDiskReport: obj({
    target: str('disk target (vda ...) or nvram'),
    kind: oneOfStr(['copy', 'overlay']),
    source: str(),
    dest: str(),
    'format?': str(),
    'pool?': str(),
    'volume?': str(),
    bytes: int('bytes the copy processes (0 for an overlay)', 0),
  }),
  CloneResult: obj(
    {
      name: str(),
      uuid: str(),
      xml: str("the clone's inactive definition"),
      disks: arr(ref('CloneDiskReport')),
      kept: arr(obj({ target: str(), reason: str() }), 'disks used as they are, and why'),
      warnings: arr(str()),
      started: bool(),
      dryRun: bool(),
    },
    'The new domain and what was done (or, with dryRun, would be done).',
  ),
  TvirtEvent: obj(
    {
      kind: oneOfStr(EVENT_KINDS),
      name: str('the object the event is about'),
      'uuid?': str(),
      event: str(
        "libvirt's event word: defined, undefined, started, suspended, resumed, stopped ...; jobs: started, progress, completed, failed, cancelled",
      ),
      'detail?': str('for jobs: the operation'),
      'progress?': progress,
      'jobId?': str(),
      timestamp: int('ms since the epoch', 0),
    },
    'A lifecycle or job event.',
  ),
  EventsMessage: {
    oneOf: [
      obj({ type: { type: 'string', const: 'ready' } }),
      obj({ type: { type: 'string', const: 'event' }, event: ref('TvirtEvent') }),
    ],
    description: 'A text frame on the /v1/events WebSocket.',
  },
  QueryFlag: {
    type: 'string',
    enum: ['', '1', 'true', 'yes', '0', 'false', 'no'],
    description: 'A boolean query flag: `?flag` or `?flag=1|true|yes` is true, `?flag=0|false|no` false.',
  },
};

/** Error responses, by status: what httpStatusOf (src/util/errors.ts) maps to each. */
function codesWithStatus(status: number): string {
  return (Object.entries(httpStatusOf) as [string, number][])
    .filter(([, s]) => s === status)
    .map(([c]) => c)
    .join(', ');
}

const errorResponse = (description: string): Response => ({
  description,
  content: { 'application/json': { schema: ref('Error') } },
});

const responses: Record<string, Response> = {
  BadRequest: errorResponse(`Bad request: ${codesWithStatus(400)}.`),
  Unauthorized: {
    ...errorResponse('AUTH_FAILED: TCP only, a missing or wrong bearer token.'),
    headers: { 'WWW-Authenticate': { description: 'Bearer realm="tvirt"', schema: str() } },
  },
  Forbidden: errorResponse(
    `${codesWithStatus(403)}: a read-only credential on a read-write operation (or xml?secure).`,
  ),
  NotFound: errorResponse(`No such object: ${codesWithStatus(404)}; or INVALID_ARG for an unknown path.`),
  MethodNotAllowed: errorResponse('INVALID_ARG: the path exists, the method does not.'),
  Conflict: errorResponse(`Wrong state or clash: ${codesWithStatus(409)}.`),
  PayloadTooLarge: errorResponse(
    'INVALID_ARG: the request body is larger than the limit (4 MiB by default).',
  ),
  NotImplemented: errorResponse(
    `${codesWithStatus(501)}: this driver or daemon does not do that (e.g. a daemon without networking).`,
  ),
  InternalError: errorResponse('INTERNAL_ERROR or any code without a status of its own.'),
};

const respRef = (name: string): Reference => ({ $ref: `#/components/responses/${name}` });

// ---- Operations ----

const paths: Record<string, PathItem> = {};

const PATH_PARAMS: Record<string, (path: string) => string> = {
  ref: (p) =>
    p.startsWith('/v1/networks/')
      ? 'network name or UUID, URL-encoded'
      : 'domain name, UUID or id, URL-encoded',
  pool: () => 'storage pool name or UUID, URL-encoded',
  vol: () => 'volume name in the pool, URL-encoded',
  bridge: () => 'host bridge name',
  id: () => 'job id',
  type: () => 'which metadata',
};

const PATH_ENUMS: Record<string, readonly string[]> = { type: ['title', 'description'] };

type Body = { schema: SchemaObject; xml?: boolean; description?: string; required?: boolean };

interface OpSpec {
  id: string;
  summary: string;
  description?: string;
  access: Access;
  query?: Parameter[];
  body?: Body | RequestBody;
  /** Success responses by status: a component schema name or a JSON schema. */
  ok?: Record<string, Schema | string>;
  /** Success responses by status, written out (WebSocket upgrades, raw bytes). */
  okRaw?: Record<string, Response>;
  /** Extra error statuses beyond the defaults. */
  errors?: string[];
  websocket?: true;
}

function success(status: string, v: Schema | string): Response {
  const schema = typeof v === 'string' ? ref(v) : v;
  const resp: Response = {
    description: status === '201' ? 'Created' : status === '202' ? 'Accepted' : 'OK',
    content: { 'application/json': { schema } },
  };
  // {xml} answers come as the XML itself when the request asks for it (Accept: application/xml).
  if (typeof v === 'string' && v === 'Xml')
    resp.content!['application/xml'] = { schema: { type: 'string', contentMediaType: 'application/xml' } };
  return resp;
}

function requestBody(b: Body | RequestBody): RequestBody {
  if ('content' in b) return b;
  const content: Record<string, MediaType> = { 'application/json': { schema: b.schema } };
  if (b.xml)
    content['application/xml'] = {
      schema: { type: 'string', description: 'the XML alone, as if sent as {"xml": ...}' },
    };
  return {
    required: b.required ?? (b.schema.required?.length ?? 0) > 0,
    ...(b.description ? { description: b.description } : {}),
    content,
  };
}

function tagOf(path: string): string {
  if (path.startsWith('/v1/networks') || path.startsWith('/v1/interfaces')) return 'networks';
  if (path.startsWith('/v1/storage')) return 'storage';
  if (path.startsWith('/v1/domains')) return 'domains';
  if (path.startsWith('/v1/jobs')) return 'jobs';
  if (path === '/v1/events') return 'events';
  return 'host';
}

function add(method: HttpMethod, path: string, s: OpSpec): void {
  const pathParams: Parameter[] = [...path.matchAll(/\{(\w+)\}/g)].map(([, name]) => {
    const enumValues = PATH_ENUMS[name!];
    return {
      name: name!,
      in: 'path',
      required: true,
      description: PATH_PARAMS[name!]?.(path) ?? name!,
      schema: enumValues ? oneOfStr(enumValues) : str(),
    };
  });
  const params = [...pathParams, ...(s.query ?? [])];
  const responses: Record<string, Response | Reference> = {};
  for (const [status, v] of Object.entries(s.ok ?? {})) responses[status] = success(status, v);
  for (const [status, v] of Object.entries(s.okRaw ?? {})) responses[status] = v;
  // The errors that apply: bad input, internal errors and unsupported calls always; 401 on TCP; 403
  // for rw calls; 404 when a path or query names an object; 409 for changes; 413 for JSON bodies.
  const errs = new Set(['400', '401', ...(s.errors ?? [])]);
  if (s.access === 'rw') errs.add('403').add('409');
  if (pathParams.some((p) => p.name !== 'type' && p.name !== 'id')) errs.add('404');
  if (s.body && !('content' in s.body)) errs.add('413');
  // Any driver may lack a call (NO_SUPPORT); a daemon without networking answers OPERATION_UNSUPPORTED.
  errs.add('500').add('501');
  const names: Record<string, string> = {
    '400': 'BadRequest',
    '401': 'Unauthorized',
    '403': 'Forbidden',
    '404': 'NotFound',
    '409': 'Conflict',
    '413': 'PayloadTooLarge',
    '500': 'InternalError',
    '501': 'NotImplemented',
  };
  for (const st of [...errs].sort()) responses[st] = respRef(names[st]!);
  const op: Operation = {
    operationId: s.id,
    summary: s.summary,
    ...(s.description ? { description: s.description } : {}),
    tags: [tagOf(path)],
    ...(params.length ? { parameters: params } : {}),
    ...(s.body ? { requestBody: requestBody(s.body) } : {}),
    responses,
    ...(s.websocket ? { security: [{ bearerAuth: [] }, { accessToken: [] }, { mutualTLS: [] }, {}] } : {}),
    'x-tvirt-access': s.access,
    ...(s.websocket ? { 'x-tvirt-websocket': true as const } : {}),
  };
  const item = (paths[path] ??= {});
  if (item[method]) throw new Error(`openapi: ${method} ${path} described twice`);
  item[method] = op;
}

const q = (name: string, description: string, schema: Schema = str(), required = false): Parameter => ({
  name,
  in: 'query',
  ...(required ? { required } : {}),
  description,
  schema,
});
const flag = (name: string, description: string): Parameter => q(name, description, ref('QueryFlag'));
const listQ = (name: string, values: readonly string[], description: string): Parameter => ({
  ...q(name, `${description}; repeat it or separate values with commas`, arr(oneOfStr(values))),
  style: 'form',
  explode: true,
});
const tagQ = q('tag', "a unique string the call's job carries as its uuid (follow its events, cancel it)");
const streamQ = [
  q('offset', 'first byte', int(undefined, 0)),
  q('length', 'bytes to transfer (0 or absent: to the end)', int(undefined, 0)),
  flag('sparse', `the body is a ${SPARSE_CONTENT_TYPE} stream of data and hole frames`),
];
const DOMAIN_FILTER = ['active', 'inactive', 'persistent', 'transient', 'autostart', 'noAutostart'];
const ok = 'Ok';
const xmlBody = (extra: Record<string, Schema>, description: string): Body => ({
  schema: obj({ xml: str('libvirt XML'), ...extra }),
  xml: true,
  description: `${description} Or the XML alone with Content-Type: application/xml.`,
});
const autostartBody: Body = { schema: obj({ autostart: bool() }) };

// Host
add('get', '/v1/version', {
  id: 'getVersion',
  summary: 'virsh version',
  access: 'ro',
  ok: { 200: 'VersionInfo' },
});
add('get', '/v1/host', {
  id: 'getHostSummary',
  summary: 'hostname and nodeinfo together',
  access: 'ro',
  ok: { 200: obj({ hostname: str(), nodeInfo: ref('NodeInfo') }) },
});
add('get', '/v1/host/hostname', {
  id: 'getHostname',
  summary: 'virsh hostname',
  access: 'ro',
  ok: { 200: obj({ hostname: str() }) },
});
add('get', '/v1/host/nodeinfo', {
  id: 'nodeGetInfo',
  summary: 'virsh nodeinfo',
  access: 'ro',
  ok: { 200: 'NodeInfo' },
});
add('get', '/v1/capabilities', {
  id: 'getCapabilities',
  summary: 'virsh capabilities',
  access: 'ro',
  ok: { 200: 'Xml' },
});
add('post', '/v1/host/domain-xml-to-native', {
  id: 'domainXMLToNative',
  summary: 'virsh domxml-to-native',
  description:
    "A domain XML in the hypervisor's native format: for 'qemu-argv', the QEMU command line it would start with (environment first, one line). Nothing is defined or started. The test driver answers 501 NO_SUPPORT, as libvirt's.",
  access: 'rw',
  body: {
    schema: obj({ format: oneOfStr(['qemu-argv']), xml: str('libvirt domain XML') }),
  },
  ok: { 200: obj({ native: str() }) },
});
add('get', '/v1/openapi.json', {
  id: 'getOpenApi',
  summary: 'this document',
  access: 'ro',
  ok: { 200: { type: 'object', description: 'an OpenAPI 3.1 document' } },
});

// Domains
add('get', '/v1/domains', {
  id: 'listDomains',
  summary: 'virsh list',
  description: 'Unset filters match either way; with none, every domain.',
  access: 'ro',
  query: [
    ...DOMAIN_FILTER.map((f) => flag(f, `only ${f} domains`)),
    listQ('state', DOMAIN_STATES, 'only domains in these states'),
  ],
  ok: { 200: obj({ domains: arr(ref('DomainSummary')) }) },
});
add('post', '/v1/domains', {
  id: 'domainDefineXML',
  summary: 'virsh define; with transient, virsh create (domainCreateXML)',
  access: 'rw',
  body: xmlBody(
    {
      'transient?': bool('create and start a transient domain instead of defining one'),
      'paused?': bool('with transient: leave it paused'),
    },
    'The domain XML.',
  ),
  ok: { 201: 'DomainSummary' },
});
add('get', '/v1/domains/{ref}', {
  id: 'domainLookup',
  summary: 'find a domain',
  access: 'ro',
  ok: { 200: 'DomainSummary' },
});
add('delete', '/v1/domains/{ref}', {
  id: 'domainUndefine',
  summary: 'virsh undefine',
  description: 'A running domain becomes transient and disappears when it stops.',
  access: 'rw',
  query: [
    flag('removeAllStorage', 'also delete the volumes of its disks'),
    flag('nvram', 'also remove its NVRAM file'),
  ],
  ok: { 200: obj({ becameTransient: bool() }) },
});
add('get', '/v1/domains/{ref}/info', {
  id: 'domainGetInfo',
  summary: 'virsh dominfo',
  access: 'ro',
  ok: { 200: 'DomainInfo' },
});
add('get', '/v1/domains/{ref}/state', {
  id: 'domainGetState',
  summary: 'virsh domstate --reason',
  access: 'ro',
  ok: { 200: 'DomainState' },
});
add('get', '/v1/domains/{ref}/memory-stats', {
  id: 'domainMemoryStats',
  summary: 'virsh dommemstat',
  description:
    "A running domain's memory statistics as [tag, value] pairs with libvirt's tags (actual, swap_in, ..., rss; sizes in KiB). 409 when the domain is not running.",
  access: 'ro',
  ok: { 200: obj({ stats: arr(arr({ type: ['string', 'integer'] }, '[tag, value]')) }) },
  errors: ['409'],
});
add('get', '/v1/domains/{ref}/block-info', {
  id: 'domainGetBlockInfo',
  summary: 'virsh domblkinfo',
  description:
    "One disk's sizes: capacity (the guest's size), allocation (bytes used on the host), physical (the file's size).",
  access: 'ro',
  query: [q('disk', 'the disk: its target (vda) or its source path', str(), true)],
  ok: { 200: obj({ capacity: int('bytes', 0), allocation: int('bytes', 0), physical: int('bytes', 0) }) },
});
add('post', '/v1/domains/{ref}/qemu-monitor-command', {
  id: 'domainQemuMonitorCommand',
  summary: 'virsh qemu-monitor-command',
  description:
    "One QMP command (JSON with execute) or, with hmp, one human monitor command line, on a running domain. The reply is QEMU's answer as JSON text, {return} or {error}, with an id. Full control of QEMU: read-write only. 409 when the domain is not running; 501 on the test driver.",
  access: 'rw',
  body: { schema: obj({ cmd: str('the QMP command as JSON, or the HMP command line'), 'hmp?': bool() }) },
  ok: { 200: obj({ reply: str('the reply, JSON text') }) },
});
add('get', '/v1/domains/{ref}/interface-addresses', {
  id: 'domainInterfaceAddresses',
  summary: 'virsh domifaddr',
  description:
    "A running domain's interfaces and their addresses, from its networks' DHCP leases (source lease); the test driver makes them up as libvirt's does. 409 OPERATION_INVALID when the domain is not running.",
  access: 'ro',
  query: [q('source', 'where the addresses come from (default lease)', oneOfStr(['lease', 'agent', 'arp']))],
  ok: { 200: obj({ interfaces: arr(ref('DomainInterfaceAddresses')) }) },
  errors: ['409'],
});
add('get', '/v1/domains/{ref}/xml', {
  id: 'domainGetXMLDesc',
  summary: 'virsh dumpxml',
  access: 'ro',
  query: [
    flag('inactive', 'the persistent definition rather than the live one'),
    flag('secure', 'include secrets such as VNC passwords (needs rw: 403 for read-only credentials)'),
  ],
  ok: { 200: 'Xml' },
  errors: ['403'],
});
const domainAction = (
  name: string,
  id: string,
  summary: string,
  body?: Record<string, Schema>,
  answer: string = ok,
) =>
  add('post', `/v1/domains/{ref}/actions/${name}`, {
    id,
    summary,
    access: 'rw',
    ...(body ? { body: { schema: obj(body), required: false } } : {}),
    ok: { 200: answer },
  });
const shutdownMode = { 'mode?': oneOfStr(['acpi', 'agent'], 'how to ask the guest') };
domainAction('start', 'domainCreate', 'virsh start', { 'paused?': bool() }, 'DomainSummary');
domainAction('shutdown', 'domainShutdown', 'virsh shutdown', shutdownMode);
domainAction('reboot', 'domainReboot', 'virsh reboot', shutdownMode);
domainAction('reset', 'domainReset', 'virsh reset');
domainAction('destroy', 'domainDestroy', 'virsh destroy', {
  'graceful?': bool('false: kill at once (virsh destroy --graceful is true)'),
});
domainAction('suspend', 'domainSuspend', 'virsh suspend');
domainAction('resume', 'domainResume', 'virsh resume');
add('put', '/v1/domains/{ref}/autostart', {
  id: 'domainSetAutostart',
  summary: 'virsh autostart [--disable]',
  access: 'rw',
  body: autostartBody,
  ok: { 200: ok },
});
add('put', '/v1/domains/{ref}/memory', {
  id: 'domainSetMemory',
  summary: 'virsh setmem',
  access: 'rw',
  body: { schema: obj({ kib: int('KiB', 0), ...modifyFlagsBody }) },
  ok: { 200: ok },
});
add('put', '/v1/domains/{ref}/max-memory', {
  id: 'domainSetMaxMemory',
  summary: 'virsh setmaxmem',
  access: 'rw',
  body: { schema: obj({ kib: int('KiB', 0), ...modifyFlagsBody }) },
  ok: { 200: ok },
});
add('put', '/v1/domains/{ref}/vcpus', {
  id: 'domainSetVcpus',
  summary: 'virsh setvcpus',
  access: 'rw',
  body: {
    schema: obj({ count: int(undefined, 0), 'maximum?': bool('change the maximum'), ...modifyFlagsBody }),
  },
  ok: { 200: ok },
});
add('get', '/v1/domains/{ref}/metadata/{type}', {
  id: 'domainGetMetadata',
  summary: 'virsh desc (read)',
  access: 'ro',
  query: [
    flag('config', 'from the persistent definition'),
    flag('live', 'from the running domain'),
    flag('current', 'the current state (the default)'),
  ],
  ok: { 200: obj({ text: str() }) },
  errors: ['404'],
});
add('put', '/v1/domains/{ref}/metadata/{type}', {
  id: 'domainSetMetadata',
  summary: 'virsh desc (write)',
  access: 'rw',
  body: { schema: obj({ text: str(), ...modifyFlagsBody }) },
  ok: { 200: ok },
});
add('post', '/v1/domains/{ref}/clone', {
  id: 'domainClone',
  summary: 'virt-clone',
  description:
    'With dryRun, answers the plan (200 CloneResult). Otherwise answers 202 {jobId} once the cancellable clone job runs; its job events carry processed/total bytes; cancel it with DELETE /v1/jobs/{id}.',
  access: 'rw',
  body: {
    required: false,
    schema: obj({
      'name?': str('-n; absent: NAME-clone, NAME-clone1 ...'),
      'uuid?': str('-u; absent: random'),
      'nvram?': str('where the copied NVRAM goes'),
      'originalXml?': str('clone this definition instead of the domain {ref}'),
      'files?': arr(str(), '-f: one path per cloneable disk, in disk order'),
      'macs?': arr(str(), '--mac: one per interface, in order'),
      'skipCopy?': arr(str(), '--skip-copy: disk targets kept as they are'),
      'reflink?': bool(),
      'preserveData?': bool(),
      'nonsparse?': bool(),
      'replace?': bool(),
      'linked?': bool('a qcow2 overlay instead of a copy'),
      'start?': bool('start the clone once defined'),
      'dryRun?': bool('plan and check only'),
      'check?': {
        type: 'object',
        additionalProperties: { type: 'boolean' },
        description: '--check NAME=on|off: path_exists, path_in_use, mac_in_use, all',
      },
    }),
  },
  ok: { 200: 'CloneResult', 202: obj({ jobId: str() }) },
});
add('get', '/v1/domains/{ref}/console', {
  id: 'domainOpenConsole',
  summary: 'virsh console (WebSocket)',
  description:
    'GET with `Upgrade: websocket`; binary frames carry the serial console bytes both ways. Errors (domain missing or not running) are answered before the upgrade, as JSON.',
  access: 'rw',
  websocket: true,
  query: [q('dev', 'the chardev alias (default: the first serial console)')],
  okRaw: { 101: { description: 'Switching Protocols: the WebSocket is open' } },
  errors: ['404', '409'],
});

// Jobs
add('get', '/v1/jobs', {
  id: 'jobList',
  summary: 'the daemon jobs',
  access: 'ro',
  query: [flag('active', 'only queued and running jobs')],
  ok: { 200: obj({ jobs: arr(ref('JobInfo')) }) },
});
add('get', '/v1/jobs/{id}', {
  id: 'jobGet',
  summary: 'one job',
  access: 'ro',
  ok: { 200: 'JobInfo' },
});
add('delete', '/v1/jobs/{id}', {
  id: 'jobCancel',
  summary: 'cancel a job (a cancelled job leaves nothing behind)',
  access: 'rw',
  ok: { 200: 'JobInfo' },
});

// Events
add('get', '/v1/events', {
  id: 'onEvent',
  summary: 'the event stream (WebSocket)',
  description:
    'GET with `Upgrade: websocket`; text frames: `{"type":"ready"}`, then `{"type":"event","event":TvirtEvent}` (EventsMessage).',
  access: 'ro',
  websocket: true,
  query: [
    listQ('kind', EVENT_KINDS, 'only events of these kinds'),
    { ...q('name', 'only events about these objects; repeat it', arr(str())), style: 'form', explode: true },
  ],
  okRaw: { 101: { description: 'Switching Protocols: the WebSocket is open; frames are EventsMessage' } },
});

// Networks
add('get', '/v1/networks', {
  id: 'listNetworks',
  summary: 'virsh net-list',
  access: 'ro',
  query: ['active', 'persistent', 'autostart'].map((f) =>
    flag(f, `only networks with ${f} true (false: false)`),
  ),
  ok: { 200: obj({ networks: arr(ref('NetworkSummary')) }) },
});
add('post', '/v1/networks', {
  id: 'networkDefineXML',
  summary: 'virsh net-define; with transient, virsh net-create (networkCreateXML)',
  access: 'rw',
  body: xmlBody({ 'transient?': bool('create and start a transient network') }, 'The network XML.'),
  ok: { 201: 'NetworkSummary' },
});
add('get', '/v1/networks/{ref}', {
  id: 'networkLookup',
  summary: 'find a network',
  access: 'ro',
  ok: { 200: 'NetworkSummary' },
});
add('delete', '/v1/networks/{ref}', {
  id: 'networkUndefine',
  summary: 'virsh net-undefine',
  access: 'rw',
  ok: { 200: ok },
});
add('get', '/v1/networks/{ref}/info', {
  id: 'networkGetInfo',
  summary: 'virsh net-info',
  access: 'ro',
  ok: { 200: 'NetworkInfo' },
});
add('get', '/v1/networks/{ref}/xml', {
  id: 'networkGetXMLDesc',
  summary: 'virsh net-dumpxml',
  access: 'ro',
  query: [flag('inactive', 'the persistent definition')],
  ok: { 200: 'Xml' },
});
add('post', '/v1/networks/{ref}/actions/start', {
  id: 'networkCreate',
  summary: 'virsh net-start',
  access: 'rw',
  ok: { 200: 'NetworkSummary' },
});
add('post', '/v1/networks/{ref}/actions/destroy', {
  id: 'networkDestroy',
  summary: 'virsh net-destroy',
  access: 'rw',
  ok: { 200: ok },
});
add('put', '/v1/networks/{ref}/autostart', {
  id: 'networkSetAutostart',
  summary: 'virsh net-autostart [--disable]',
  access: 'rw',
  body: autostartBody,
  ok: { 200: ok },
});
add('post', '/v1/networks/{ref}/update', {
  id: 'networkUpdate',
  summary: 'virsh net-update',
  access: 'rw',
  body: {
    schema: obj({
      command: oneOfStr(NET_UPDATE_COMMANDS),
      section: oneOfStr(NET_UPDATE_SECTIONS),
      xml: str('the XML of the element'),
      'parentIndex?': int('which parent element (-1: any)', -1),
      'live?': bool(),
      'config?': bool(),
    }),
  },
  ok: { 200: ok },
});
add('get', '/v1/networks/{ref}/leases', {
  id: 'networkGetDHCPLeases',
  summary: 'virsh net-dhcp-leases',
  access: 'ro',
  query: [q('mac', 'only the leases of this MAC')],
  ok: { 200: obj({ leases: arr(ref('NetworkLease')) }) },
});
add('get', '/v1/interfaces', {
  id: 'ifaceList',
  summary: 'virsh iface-list',
  access: 'ro',
  ok: { 200: obj({ interfaces: arr(ref('HostInterface')) }) },
});
add('post', '/v1/interfaces/bridges', {
  id: 'ifaceBridge',
  summary: "virsh iface-bridge: a new bridge takes over the interface's addresses and routes",
  access: 'rw',
  body: { schema: obj({ iface: str(), bridge: str(), 'stp?': bool(), 'delay?': int('seconds', 0) }) },
  ok: { 201: ok },
});
add('delete', '/v1/interfaces/bridges/{bridge}', {
  id: 'ifaceUnbridge',
  summary: 'virsh iface-unbridge',
  access: 'rw',
  ok: { 200: obj({ iface: str('the freed interface') }) },
});

// Storage
const buildFlags = { 'overwrite?': bool(), 'noOverwrite?': bool() };
add('get', '/v1/storage/capabilities', {
  id: 'storagePoolGetCapabilities',
  summary: 'virsh pool-capabilities',
  access: 'ro',
  ok: { 200: 'Xml' },
});
add('get', '/v1/storage/pools', {
  id: 'listStoragePools',
  summary: 'virsh pool-list',
  access: 'ro',
  query: [
    ...DOMAIN_FILTER.map((f) => flag(f, `only ${f} pools`)),
    listQ('type', POOL_TYPES, 'only pools of these types'),
  ],
  ok: { 200: obj({ pools: arr(ref('StoragePoolSummary')) }) },
});
add('post', '/v1/storage/pools', {
  id: 'storagePoolDefineXML',
  summary: 'virsh pool-define; with transient, virsh pool-create (storagePoolCreateXML)',
  access: 'rw',
  body: xmlBody(
    {
      'transient?': bool('create and start a transient pool'),
      'build?': bool('with transient: build it first'),
      ...buildFlags,
    },
    'The pool XML.',
  ),
  ok: { 201: 'StoragePoolSummary' },
});
add('get', '/v1/storage/volume-pool', {
  id: 'storagePoolLookupByVolume',
  summary: 'virsh vol-pool',
  access: 'ro',
  query: [q('volume', "a volume's path or key", str(), true)],
  ok: { 200: 'StoragePoolSummary' },
  errors: ['404'],
});
add('get', '/v1/storage/volumes', {
  id: 'storageVolLookupByPath',
  summary: 'a volume by ?path= (storageVolLookupByPath) or ?key= (storageVolLookupByKey)',
  access: 'ro',
  query: [q('path', "the volume's path"), q('key', "the volume's key")],
  ok: { 200: 'StorageVolSummary' },
  errors: ['404'],
});
add('get', '/v1/storage/pools/{pool}', {
  id: 'storagePoolLookup',
  summary: 'find a pool',
  access: 'ro',
  ok: { 200: 'StoragePoolSummary' },
});
add('delete', '/v1/storage/pools/{pool}', {
  id: 'storagePoolUndefine',
  summary: 'virsh pool-undefine',
  access: 'rw',
  ok: { 200: ok },
});
add('get', '/v1/storage/pools/{pool}/info', {
  id: 'storagePoolGetInfo',
  summary: 'virsh pool-info',
  access: 'ro',
  ok: { 200: 'StoragePoolInfo' },
});
add('get', '/v1/storage/pools/{pool}/xml', {
  id: 'storagePoolGetXMLDesc',
  summary: 'virsh pool-dumpxml',
  access: 'ro',
  query: [flag('inactive', 'the persistent definition')],
  ok: { 200: 'Xml' },
});
const poolAction = (name: string, id: string, summary: string, body?: Record<string, Schema>) =>
  add('post', `/v1/storage/pools/{pool}/actions/${name}`, {
    id,
    summary,
    access: 'rw',
    ...(body ? { body: { schema: obj(body), required: false } } : {}),
    ok: { 200: ok },
  });
poolAction('build', 'storagePoolBuild', 'virsh pool-build', buildFlags);
poolAction('start', 'storagePoolCreate', 'virsh pool-start', { 'build?': bool(), ...buildFlags });
poolAction('destroy', 'storagePoolDestroy', 'virsh pool-destroy');
poolAction('delete', 'storagePoolDelete', 'virsh pool-delete', {
  'withVolumes?': bool('delete its volumes too'),
});
poolAction('refresh', 'storagePoolRefresh', 'virsh pool-refresh');
add('put', '/v1/storage/pools/{pool}/autostart', {
  id: 'storagePoolSetAutostart',
  summary: 'virsh pool-autostart [--disable]',
  access: 'rw',
  body: autostartBody,
  ok: { 200: ok },
});
add('get', '/v1/storage/pools/{pool}/volumes', {
  id: 'listStorageVols',
  summary: 'virsh vol-list --details',
  access: 'ro',
  ok: { 200: obj({ volumes: arr(ref('StorageVolInfo')) }) },
});
const tagField = { 'tag?': str("a unique string the call's job carries as its uuid (or ?tag=)") };
add('post', '/v1/storage/pools/{pool}/volumes', {
  id: 'storageVolCreateXML',
  summary: 'virsh vol-create; with from, vol-create-from / vol-clone (storageVolCreateXMLFrom)',
  access: 'rw',
  query: [tagQ],
  body: xmlBody(
    {
      'from?': obj({ pool: str(), name: str() }, 'the volume to copy'),
      'preallocMetadata?': bool('qcow2 only'),
      'reflink?': bool(
        'with from: a copy-on-write clone sharing the blocks, or a failure (never a byte copy)',
      ),
      ...tagField,
    },
    'The volume XML.',
  ),
  ok: { 201: 'StorageVolSummary' },
});
add('get', '/v1/storage/pools/{pool}/volumes/{vol}', {
  id: 'storageVolLookupByName',
  summary: 'find a volume',
  access: 'ro',
  ok: { 200: 'StorageVolSummary' },
});
add('delete', '/v1/storage/pools/{pool}/volumes/{vol}', {
  id: 'storageVolDelete',
  summary: 'virsh vol-delete',
  access: 'rw',
  ok: { 200: ok },
});
add('get', '/v1/storage/pools/{pool}/volumes/{vol}/info', {
  id: 'storageVolGetInfo',
  summary: 'virsh vol-info',
  access: 'ro',
  ok: { 200: 'StorageVolInfo' },
});
add('get', '/v1/storage/pools/{pool}/volumes/{vol}/xml', {
  id: 'storageVolGetXMLDesc',
  summary: 'virsh vol-dumpxml',
  access: 'ro',
  ok: { 200: 'Xml' },
});
add('get', '/v1/storage/pools/{pool}/volumes/{vol}/path', {
  id: 'storageVolGetPath',
  summary: 'virsh vol-path',
  access: 'ro',
  ok: { 200: obj({ path: str() }) },
});
add('post', '/v1/storage/pools/{pool}/volumes/{vol}/actions/wipe', {
  id: 'storageVolWipe',
  summary: 'virsh vol-wipe (a cancellable job)',
  access: 'rw',
  query: [tagQ],
  body: {
    required: false,
    schema: obj({ 'algorithm?': oneOfStr(WIPE_ALGORITHMS, "default 'zero'"), ...tagField }),
  },
  ok: { 200: ok },
});
add('post', '/v1/storage/pools/{pool}/volumes/{vol}/actions/resize', {
  id: 'storageVolResize',
  summary: 'virsh vol-resize (a cancellable job)',
  access: 'rw',
  query: [tagQ],
  body: {
    schema: obj({
      capacity: int('bytes (added to the current one with delta)', 0),
      'allocate?': bool(),
      'delta?': bool(),
      'shrink?': bool(),
      ...tagField,
    }),
  },
  ok: { 200: ok },
});
const content = {
  'application/octet-stream': { schema: { type: 'string', format: 'binary' } as SchemaObject },
  [SPARSE_CONTENT_TYPE]: {
    schema: {
      type: 'string',
      format: 'binary',
      description: "with ?sparse: frames 'D'|'H' + uint64 BE length (+ the data of a D frame)",
    } as SchemaObject,
  },
};
add('put', '/v1/storage/pools/{pool}/volumes/{vol}/content', {
  id: 'storageVolUpload',
  summary: 'virsh vol-upload: the request body is the content (a cancellable job)',
  access: 'rw',
  query: [...streamQ, tagQ],
  body: { required: true, content },
  ok: { 200: ok },
});
add('get', '/v1/storage/pools/{pool}/volumes/{vol}/content', {
  id: 'storageVolDownload',
  summary: 'virsh vol-download: the answer body is the content (a cancellable job)',
  description: "Needs a read-write credential, as in libvirt: a disk image holds the guest's secrets.",
  access: 'rw',
  query: [...streamQ, tagQ],
  okRaw: { 200: { description: 'the bytes (sparse frames with ?sparse)', content } },
  errors: ['409'],
});

/** The OpenAPI document of /v1, as served at GET /v1/openapi.json. */
export const openapiDocument: OpenApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'tvirt API',
    version: '1.0.0',
    description: [
      "tvirtd's REST + WebSocket API: one operation per Connection method (src/drivers/connection.ts), named after it.",
      'Bodies are JSON; where virsh takes XML (define, create), the XML alone may be sent with `Content-Type: application/xml`.',
      'Operations answering `{xml}` answer the XML itself (`Content-Type: application/xml; charset=utf-8`) when the',
      'request has `Accept: application/xml` (or `text/xml`); errors are always JSON.',
      'Errors: `{"error":{code, number, domain, message}}` with the HTTP status from httpStatusOf (src/util/errors.ts);',
      'a path that exists with another method answers 405, an unknown path 404.',
      '`x-tvirt-access` is the role an operation needs: `ro` credentials may only call `ro` operations.',
    ].join(' '),
    license: { name: 'LGPL-2.1-or-later', identifier: 'LGPL-2.1-or-later' },
  },
  servers: [
    {
      url: 'http://localhost',
      description:
        'the UNIX socket (/run/tvirt/tvirt-sock; curl --unix-socket): no authentication, callers act as the socket owner (rw)',
    },
    {
      url: 'https://{host}:{port}',
      description:
        'the TCP listener (--listen-tcp), TLS or plain: a bearer token or a TLS client certificate',
      variables: { host: { default: 'localhost' }, port: { default: '16514' } },
    },
  ],
  tags: [
    { name: 'host', description: 'the host and this document' },
    { name: 'domains', description: 'guests (virDomain*) and virt-clone' },
    { name: 'jobs', description: 'daemon jobs' },
    { name: 'events', description: 'the event stream' },
    { name: 'networks', description: 'virtual networks and host bridges (virNetwork*, iface-*)' },
    { name: 'storage', description: 'storage pools and volumes (virStoragePool*, virStorageVol*)' },
  ],
  // The empty requirement is the UNIX socket, which needs none.
  security: [{ bearerAuth: [] }, { mutualTLS: [] }, {}],
  paths,
  components: {
    schemas,
    responses,
    securitySchemes: {
      bearerAuth: {
        type: 'http',
        scheme: 'bearer',
        description:
          'TCP: `Authorization: Bearer TOKEN`, a token of --tcp-auth-token-file with role rw or ro. The UNIX socket needs none.',
      },
      accessToken: {
        type: 'apiKey',
        in: 'query',
        name: 'access_token',
        description: 'TCP WebSocket upgrades only (browsers cannot set headers): ?access_token=TOKEN.',
      },
      mutualTLS: {
        type: 'mutualTLS',
        description: 'TLS with --tls-client-ca: a client certificate signed by that CA authenticates as rw.',
      },
    },
  },
};
