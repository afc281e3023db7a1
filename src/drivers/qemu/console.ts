// Guest consoles: a byte stream (Duplex) to a serial/console chardev of a running QEMU, through its
// pty (libvirt's virFDStreamOpenPTY) or its UNIX socket.
import { openSync } from 'node:fs';
import { createConnection } from 'node:net';
import { Duplex } from 'node:stream';
import tty from 'node:tty';
import type { ChardevDef, DomainDef } from '../../conf/domain/domain-def.js';
import { VirError } from '../../util/errors.js';

/** The chardev behind `virsh console NAME [DEV]`: the first console, else the first serial port. */
export function findConsoleChardev(
  def: DomainDef,
  dev?: string,
): { alias: string; chr: ChardevDef } | undefined {
  const d = def.devices;
  if (dev) {
    const m = /^(serial|console|channel)(\d+)$/.exec(dev);
    if (m) {
      const list = m[1] === 'serial' ? d.serials : m[1] === 'console' ? d.consoles : d.channels;
      const chr = list[Number(m[2])];
      if (chr) return { alias: dev, chr: aliasOfConsole(def, chr, dev) };
    }
    const ch = d.channels.findIndex((c) => c.target?.name === dev);
    if (ch >= 0) return { alias: `channel${ch}`, chr: d.channels[ch]! };
    return undefined;
  }
  if (d.consoles[0]) return { alias: 'console0', chr: aliasOfConsole(def, d.consoles[0], 'console0') };
  if (d.serials[0]) return { alias: 'serial0', chr: d.serials[0] };
  return undefined;
}

/** A <console type='serial'> is the first serial port under another name (libvirt's compat rule). */
function aliasOfConsole(def: DomainDef, chr: ChardevDef, alias: string): ChardevDef {
  if (alias === 'console0' && (chr.target?.type ?? 'serial') === 'serial' && def.devices.serials[0])
    return def.devices.serials[0];
  return chr;
}

/** Opens a pty slave in raw mode as one Duplex (reads and writes through libuv's tty handles). */
export function openPty(path: string): Duplex {
  const rfd = openSync(path, 'r+');
  const wfd = openSync(path, 'r+');
  const input = new tty.ReadStream(rfd);
  // No echo, no line buffering, no CR/LF mangling: the guest's serial line, byte for byte.
  input.setRawMode(true);
  const output = new tty.WriteStream(wfd);
  const duplex = Duplex.from({ readable: input, writable: output });
  duplex.once('close', () => {
    input.destroy();
    output.destroy();
  });
  return duplex;
}

/**
 * A stream to the guest console `dev` (default: the first console or serial port) of a running
 * domain's live definition. @throws OPERATION_FAILED when the device is not a pty or socket.
 */
export async function openConsole(live: DomainDef, dev?: string): Promise<Duplex> {
  const found = findConsoleChardev(live, dev);
  if (!found)
    throw new VirError(
      'INTERNAL_ERROR',
      dev
        ? `internal error: character device ${dev} is not found`
        : 'internal error: cannot find character device <null>',
      { domain: 'QEMU' },
    );
  const src = found.chr.source;
  if (src.type === 'pty') {
    if (!src.path)
      throw new VirError(
        'OPERATION_FAILED',
        `operation failed: character device ${found.alias} has no pty path yet`,
        {
          domain: 'QEMU',
        },
      );
    return openPty(src.path);
  }
  if (src.type === 'unix' && src.path && src.mode !== 'connect') {
    const sock = createConnection(src.path);
    await new Promise<void>((resolve, reject) => {
      sock.once('connect', resolve);
      sock.once('error', reject);
    });
    return sock;
  }
  throw new VirError(
    'OPERATION_FAILED',
    `operation failed: character device ${found.alias} is not using a PTY`,
    {
      domain: 'QEMU',
    },
  );
}
