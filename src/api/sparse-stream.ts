// The sparse volume stream over HTTP (virStream with VIR_STREAM_SPARSE): a body of frames, each a
// 9-byte header (kind 'D' data or 'H' hole, then the length as a big-endian uint64) followed by
// the data bytes of a 'D' frame. Holes cost 9 bytes however large they are.
import type { SparseChunk } from '../drivers/storage/storage-api.js';
import { VirError } from '../util/errors.js';

export const SPARSE_CONTENT_TYPE = 'application/vnd.tvirt.sparse-stream';

function header(kind: 'D' | 'H', length: number): Buffer {
  const h = Buffer.alloc(9);
  h.write(kind, 0, 'latin1');
  h.writeBigUInt64BE(BigInt(length), 1);
  return h;
}

/** Encodes chunks (Buffers and { hole } objects) as frames. */
export async function* encodeSparse(
  source: AsyncIterable<SparseChunk | Uint8Array | string>,
): AsyncGenerator<Buffer> {
  for await (const c of source) {
    if (typeof c === 'string') {
      const b = Buffer.from(c);
      yield header('D', b.length);
      yield b;
    } else if (c instanceof Uint8Array) {
      if (c.length === 0) continue;
      yield header('D', c.length);
      yield Buffer.from(c.buffer, c.byteOffset, c.length);
    } else if (c.hole > 0) {
      yield header('H', c.hole);
    }
  }
}

/** Decodes frames back into chunks; a truncated or malformed body is an error. */
export async function* decodeSparse(source: AsyncIterable<Buffer | string>): AsyncGenerator<SparseChunk> {
  let buf: Buffer = Buffer.alloc(0);
  let need: { kind: 'D'; left: number } | undefined;
  for await (const raw of source) {
    buf = buf.length ? Buffer.concat([buf, Buffer.from(raw)]) : Buffer.from(raw);
    for (;;) {
      if (need) {
        if (buf.length === 0) break;
        const n = Math.min(need.left, buf.length);
        yield buf.subarray(0, n);
        buf = buf.subarray(n);
        need.left -= n;
        if (need.left === 0) need = undefined;
        continue;
      }
      if (buf.length < 9) break;
      const kind = buf.toString('latin1', 0, 1);
      const len = buf.readBigUInt64BE(1);
      if (len > BigInt(Number.MAX_SAFE_INTEGER) || (kind !== 'D' && kind !== 'H'))
        throw new VirError('RPC', 'malformed sparse stream frame', { domain: 'RPC' });
      buf = buf.subarray(9);
      if (kind === 'H') yield { hole: Number(len) };
      else if (len > 0n) need = { kind: 'D', left: Number(len) };
    }
  }
  if (need || buf.length > 0)
    throw new VirError('RPC', 'sparse stream ended inside a frame', { domain: 'RPC' });
}
