// QEMU option syntax: the one place where user strings are escaped for QemuOpts (`a=b,c=d`) and JSON arguments.
import { VirError } from '../../util/errors.js';

/** A value in a QemuOpts list; undefined and false-y "skip" entries are dropped by {@link qemuOpts}. */
export type OptValue = string | number | boolean | undefined;

const KEY_RE = /^[A-Za-z0-9_.-]+$/;

function checkNoNul(s: string, what: string): void {
  if (s.includes('\0')) {
    throw new VirError('CONFIG_UNSUPPORTED', `unsupported configuration: ${what} contains a NUL character`, {
      domain: 'QEMU',
    });
  }
}

/**
 * Escapes one value for QEMU's QemuOpts parser: every `,` is doubled so that the value can never
 * end early and start a new `key=value` pair. `=` needs no escaping inside a value.
 */
export function escapeOptValue(value: string, what = 'value'): string {
  checkNoNul(value, what);
  return value.replaceAll(',', ',,');
}

/**
 * Renders a QemuOpts argument such as `socket,id=charmonitor,path=/run/x,server=on`.
 * `head` (the implied first value, e.g. a backend type or `guest=`-less machine type) is escaped;
 * keys must be literal option names chosen by tvirt. Booleans become `on`/`off`; undefined is skipped.
 */
export function qemuOpts(head: string | undefined, pairs: [string, OptValue][]): string {
  const parts: string[] = [];
  if (head !== undefined) parts.push(escapeOptValue(head, 'option'));
  for (const [k, v] of pairs) {
    if (v === undefined) continue;
    if (!KEY_RE.test(k))
      throw new VirError('INTERNAL_ERROR', `internal error: bad QEMU option key '${k}'`, { domain: 'QEMU' });
    const s = typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v);
    parts.push(`${k}=${escapeOptValue(s, k)}`);
  }
  return parts.join(',');
}

/** A JSON object for a JSON-syntax argument (-device, -blockdev, -netdev, -object). */
export type JsonProps = Record<string, unknown>;

/**
 * Serializes a JSON-syntax argument. JSON.stringify quotes every string, so commas, `=` and quotes
 * in user data cannot break out; undefined members are dropped.
 */
export function jsonArg(props: JsonProps): string {
  const s = JSON.stringify(props, (_k, v) => {
    if (typeof v === 'string') checkNoNul(v, 'value');
    return v;
  });
  return s;
}

/** Formats a number as QEMU's hex PCI slot/function style: 0x1f. */
export function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

/**
 * Checks a host name or IP literal (for VNC/SPICE listen addresses, chardev hosts). Returns the
 * form QEMU wants (IPv6 in brackets when `bracketV6`), or throws CONFIG_UNSUPPORTED.
 */
export function checkHostAddress(addr: string, what: string, bracketV6 = false): string {
  const v6 =
    /^\[?[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*(%[A-Za-z0-9_.-]+)?\]?$/.test(addr) &&
    (addr.match(/:/g)?.length ?? 0) >= 2;
  const name = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(addr);
  const reserved = /^(unix|vsock|fd)$/i.test(addr);
  if ((!v6 && !name) || reserved) {
    throw new VirError(
      'CONFIG_UNSUPPORTED',
      `unsupported configuration: ${what} '${addr}' is not a valid host name or IP address`,
      { domain: 'QEMU' },
    );
  }
  if (v6) {
    const bare = addr.replace(/^\[|\]$/g, '');
    return bracketV6 ? `[${bare}]` : bare;
  }
  return addr;
}

/** Checks a TCP/UDP port or service number (1-65535). */
export function checkPort(p: string | number | undefined, what: string): string {
  const s = String(p ?? '');
  if (!/^[0-9]{1,5}$/.test(s) || Number(s) < 1 || Number(s) > 65535) {
    throw new VirError(
      'CONFIG_UNSUPPORTED',
      `unsupported configuration: ${what} '${s}' is not a port number`,
      {
        domain: 'QEMU',
      },
    );
  }
  return String(Number(s));
}
