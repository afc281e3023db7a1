// qemu-img command lines as pure values (libvirt virStorageBackendCreateQemuImgCmdFromVol) and `info` JSON parsing.
import type { VolumeDef } from '../../conf/storage/index.js';
import type { Command } from '../../host/run.js';
import { VirError } from '../../util/errors.js';
import { attr, child, childrenNamed, type XmlElement } from '../../util/xml.js';

const QEMU_IMG = 'qemu-img';

function unsupported(
  message: string,
  code: 'CONFIG_UNSUPPORTED' | 'INTERNAL_ERROR' | 'XML_ERROR' = 'CONFIG_UNSUPPORTED',
): VirError {
  return new VirError(code, message, { domain: 'STORAGE' });
}

/** qemu's option syntax doubles commas inside a value. */
export function escapeComma(s: string): string {
  return s.replace(/,/g, ',,');
}

/** The parts of <encryption> that shape the command line. */
interface EncInfo {
  format: string;
  secrets: number;
  cipher?: { name: string; size?: string; mode?: string; hash?: string };
  ivgen?: { name: string; hash?: string };
}

function encInfo(el: XmlElement | undefined): EncInfo | undefined {
  if (!el) return undefined;
  const c = child(el, 'cipher');
  const iv = child(el, 'ivgen');
  return {
    format: attr(el, 'format') ?? 'default',
    secrets: childrenNamed(el, 'secret').length,
    cipher:
      c && attr(c, 'name')
        ? { name: attr(c, 'name')!, size: attr(c, 'size'), mode: attr(c, 'mode'), hash: attr(c, 'hash') }
        : undefined,
    ivgen: iv && attr(iv, 'name') ? { name: attr(iv, 'name')!, hash: attr(iv, 'hash') } : undefined,
  };
}

/** Options of qemuImgCreateCommands (libvirt's flags and secret files). */
export interface QemuImgCreateOptions {
  /** Clone/convert from this volume (storageVolCreateXMLFrom). */
  inputVol?: VolumeDef;
  /** VIR_STORAGE_VOL_CREATE_PREALLOC_METADATA. */
  preallocMetadata?: boolean;
  /** File holding the new volume's LUKS passphrase (required when it is encrypted). */
  secretPath?: string;
  /** File holding the input volume's LUKS passphrase. */
  inputSecretPath?: string;
  /** Override the target path (the driver builds into a temporary name first). */
  path?: string;
  program?: string;
}

/** Image format qemu-img is told: block volumes and ISO images are raw. */
export function imageFormat(vol: VolumeDef): string {
  const f = vol.type === 'block' ? 'raw' : (vol.target.format ?? 'raw');
  return f === 'iso' ? 'raw' : f;
}

/**
 * The qemu-img command(s) that create `vol`, or convert `opts.inputVol` into it: one command, or two
 * (create, then convert with --image-opts) when either side is encrypted. Pure: no file is touched.
 * @throws VirError CONFIG_UNSUPPORTED / INTERNAL_ERROR / XML_ERROR with libvirt's messages.
 */
export function qemuImgCreateCommands(vol: VolumeDef, opts: QemuImgCreateOptions = {}): Command[] {
  const input = opts.inputVol;
  const enc = encInfo(vol.target.encryption);
  const inputEnc = encInfo(input?.target.encryption);
  const declared = vol.target.format ?? 'raw';
  if (
    enc &&
    (enc.format === 'qcow' || enc.format === 'default') &&
    (declared === 'qcow' || declared === 'qcow2')
  )
    throw unsupported('creation of qcow2 encrypted image is not supported');
  if (inputEnc && inputEnc.format !== 'luks') throw unsupported('encryption format of inputvol must be LUKS');
  if (input && (enc || inputEnc)) {
    return [build(vol, input, opts, 'create'), build(vol, input, opts, 'convert')];
  }
  return [build(vol, input, opts, 'none')];
}

type Step = 'none' | 'create' | 'convert';

function build(
  vol: VolumeDef,
  input: VolumeDef | undefined,
  opts: QemuImgCreateOptions,
  step: Step,
): Command {
  const format = imageFormat(vol);
  const path = opts.path ?? vol.target.path;
  if (!path) throw unsupported('missing volume target path', 'INTERNAL_ERROR');
  const enc = encInfo(vol.target.encryption);
  const inputEnc = encInfo(input?.target.encryption);
  const preallocate = opts.preallocMetadata === true;
  const compat = vol.target.compat ?? (format === 'qcow2' ? '1.1' : undefined);
  let type = format;
  if (preallocate && format !== 'qcow2')
    throw unsupported('metadata preallocation only available with qcow2');
  if (vol.target.compat && format !== 'qcow2')
    throw unsupported('compatibility option only available with qcow2');
  if (vol.target.features && format !== 'qcow2')
    throw unsupported('format features only available with qcow2');
  if (format === 'raw' && enc) {
    if (enc.format !== 'luks')
      throw unsupported('Only luks encryption is supported for raw files', 'INTERNAL_ERROR');
    type = 'luks';
  }
  let inputPath: string | undefined;
  let inputType: string | undefined;
  if (input) {
    inputType = imageFormat(input);
    if (inputType === 'raw' && inputEnc) inputType = 'luks';
    if (step !== 'create') {
      inputPath = input.target.path;
      if (!inputPath) throw unsupported('missing input volume target path', 'INTERNAL_ERROR');
    }
  }
  let backingPath: string | undefined;
  let backingFormat: string | undefined;
  if (vol.backingStore) {
    if (format === 'raw') throw unsupported('cannot set backing store for raw volume');
    backingPath = vol.backingStore.path;
    backingFormat = vol.backingStore.format ?? 'raw';
    if (preallocate) throw unsupported('metadata preallocation conflicts with backing store');
    if (input?.backingStore && input.backingStore.path !== backingPath)
      throw unsupported('a different backing store cannot be specified.', 'INTERNAL_ERROR');
  }
  if (enc) {
    if (format !== 'raw' && format !== 'qcow2')
      throw unsupported(`volume encryption unsupported with format ${type}`);
    if (enc.format !== 'luks') throw unsupported(`unsupported volume encryption format ${enc.format}`);
    if (enc.secrets > 1) throw unsupported('too many secrets for luks encryption', 'XML_ERROR');
    if (enc.secrets === 0) throw unsupported('no secret provided for luks encryption', 'XML_ERROR');
  }
  const sizeK = Math.ceil(vol.capacity / 1024);
  const allocK = Math.ceil(vol.allocation / 1024);
  // A convert (and both steps of an encrypted convert) never sets a backing file.
  if (inputPath || step === 'create') backingPath = undefined;

  const args: string[] = [];
  if (inputPath && step === 'none') args.push('convert', '-f', inputType!, '-O', type);
  else if (inputPath && step === 'convert') args.push('convert', '--image-opts', '-n', '--target-image-opts');
  else args.push('create', '-f', type);
  if (backingPath) args.push('-b', backingPath);
  const alias = `${vol.name}_encrypt0`;
  if (enc) {
    if (!opts.secretPath) throw unsupported('path to secret data file is required', 'INTERNAL_ERROR');
    args.push('--object', `secret,id=${alias},file=${escapeComma(opts.secretPath)}`);
  }
  const inputAlias = input ? `${input.name}_encrypt0` : '';
  if (inputEnc && step === 'convert') {
    if (!opts.inputSecretPath)
      throw unsupported('path to inputvol secret data file is required', 'INTERNAL_ERROR');
    args.push('--object', `secret,id=${inputAlias},file=${escapeComma(opts.inputSecretPath)}`);
  }
  if (step !== 'convert') {
    const o: string[] = [];
    if (backingPath) o.push(`backing_fmt=${backingFormat}`);
    if (enc) o.push(...encryptionOpts(format, enc, alias));
    if (preallocate) o.push(sizeK > allocK ? 'preallocation=metadata' : 'preallocation=falloc');
    if (vol.target.nocow) o.push('nocow=on');
    if (compat) o.push(`compat=${compat}`);
    if (vol.target.clusterSize) o.push(`cluster_size=${vol.target.clusterSize}`);
    if (vol.target.features && format === 'qcow2') {
      for (const f of ['lazy_refcounts', 'extended_l2'] as const) {
        if (!vol.target.features.includes(f)) continue;
        if (compat === '0.10') {
          throw unsupported(
            f === 'lazy_refcounts'
              ? `lazy_refcounts not supported with compat level ${compat}`
              : `'extended_l2' not supported with compat level ${compat}`,
          );
        }
        o.push(f === 'lazy_refcounts' ? 'lazy_refcounts' : 'extended_l2=on');
      }
    }
    if (o.length > 0) args.push('-o', o.join(','));
    if (inputPath) args.push(inputPath);
    args.push(path);
    if (!inputPath && (sizeK > 0 || !backingPath)) args.push(`${sizeK}K`);
  } else {
    const src = [`driver=${inputType}`, `file.filename=${escapeComma(inputPath!)}`];
    if (inputEnc) src.push(`${input!.target.format === 'qcow2' ? 'encrypt.' : ''}key-secret=${inputAlias}`);
    const dst = [`driver=${type}`, `file.filename=${escapeComma(path)}`];
    if (enc) dst.push(`${format === 'qcow2' ? 'encrypt.' : ''}key-secret=${alias}`);
    args.push(src.join(','), dst.join(','));
  }
  return { program: opts.program ?? QEMU_IMG, args };
}

function encryptionOpts(format: string, enc: EncInfo, alias: string): string[] {
  const o: string[] = [];
  const p = format === 'qcow2' ? 'encrypt.' : '';
  if (format === 'qcow2') o.push('encrypt.format=luks');
  o.push(`${p}key-secret=${alias}`);
  if (!enc.cipher) return o;
  o.push(`${p}cipher-alg=${escapeComma(enc.cipher.name)}-${enc.cipher.size ?? ''}`);
  if (enc.cipher.mode) o.push(`${p}cipher-mode=${escapeComma(enc.cipher.mode)}`);
  if (enc.cipher.hash) o.push(`${p}hash-alg=${escapeComma(enc.cipher.hash)}`);
  if (!enc.ivgen) return o;
  o.push(`${p}ivgen-alg=${escapeComma(enc.ivgen.name)}`);
  if (enc.ivgen.hash) o.push(`${p}ivgen-hash-alg=${escapeComma(enc.ivgen.hash)}`);
  return o;
}

/** `qemu-img info --output=json -U PATH` (-U: read even while a guest holds the image). */
export function qemuImgInfoCommand(path: string, program = QEMU_IMG): Command {
  return { program, args: ['info', '--output=json', '-U', path] };
}

/** `qemu-img resize [--shrink] -f FMT PATH SIZE` (size in bytes). */
export function qemuImgResizeCommand(
  path: string,
  format: string,
  capacity: number,
  opts: { shrink?: boolean; program?: string } = {},
): Command {
  const args = ['resize'];
  if (opts.shrink) args.push('--shrink');
  args.push('-f', format, path, String(capacity));
  return { program: opts.program ?? QEMU_IMG, args };
}

/**
 * `qemu-img convert -p -f IN -O OUT [-o compat] SRC DST` for a plain clone between formats; -p makes
 * qemu-img print "(NN.NN/100%)" which the driver turns into job progress.
 */
export function qemuImgConvertCommand(
  src: string,
  srcFormat: string,
  dst: string,
  dstFormat: string,
  opts: { compat?: string; program?: string; progress?: boolean } = {},
): Command {
  const args = ['convert'];
  if (opts.progress) args.push('-p');
  args.push('-f', srcFormat, '-O', dstFormat);
  const compat = opts.compat ?? (dstFormat === 'qcow2' ? '1.1' : undefined);
  if (compat) args.push('-o', `compat=${compat}`);
  args.push(src, dst);
  return { program: opts.program ?? QEMU_IMG, args };
}

/** What `qemu-img info --output=json` says about an image. Sizes in bytes. */
export interface ImageInfo {
  format: string;
  virtualSize: number;
  actualSize: number;
  backingFile?: string;
  backingFormat?: string;
  clusterSize?: number;
  compat?: string;
  lazyRefcounts?: boolean;
  extendedL2?: boolean;
  encrypted?: boolean;
}

/** Parses qemu-img's JSON (QEMU 7.2 field names). @throws VirError INTERNAL_ERROR on junk. */
export function parseImageInfo(json: string): ImageInfo {
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(json) as Record<string, unknown>;
  } catch (e) {
    throw new VirError('INTERNAL_ERROR', `cannot parse qemu-img info output: ${(e as Error).message}`, {
      domain: 'STORAGE',
      cause: e,
    });
  }
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const spec = j['format-specific'] as { type?: string; data?: Record<string, unknown> } | undefined;
  const data = spec?.data ?? {};
  return {
    format: str(j.format) ?? 'raw',
    virtualSize: num(j['virtual-size']) ?? 0,
    actualSize: num(j['actual-size']) ?? 0,
    backingFile: str(j['full-backing-filename']) ?? str(j['backing-filename']),
    backingFormat: str(j['backing-filename-format']),
    clusterSize: num(j['cluster-size']),
    compat: str(data.compat),
    lazyRefcounts:
      typeof data['lazy-refcounts'] === 'boolean' ? (data['lazy-refcounts'] as boolean) : undefined,
    extendedL2: typeof data['extended-l2'] === 'boolean' ? (data['extended-l2'] as boolean) : undefined,
    encrypted: j.encrypted === true,
  };
}
