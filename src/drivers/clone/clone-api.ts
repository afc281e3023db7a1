// The cloning part of the driver contract (virt-clone as one call): options, result, interface.
import type { CloneOptions } from './clone-plan.js';

export type { CloneOptions };

/** domainClone's options: virt-clone's, plus the caller's progress, cancel and dry-run hooks. */
export interface DomainCloneOptions extends CloneOptions {
  /** --original-xml: clone this definition instead of a defined domain (`ref` is then ignored). */
  originalXml?: string;
  /** Plan and check only: nothing is copied or defined (--print-xml, and the CLI's progress layout). */
  dryRun?: boolean;
  /** Cancels the clone; everything made so far is removed. Not sent over the wire. */
  signal?: AbortSignal;
  /** Bytes copied so far over all disks. Not sent over the wire. */
  progress?: (processed: number, total: number) => void;
  /** Called with the daemon job's id once it runs (cancel it through the job API). */
  onJob?: (jobId: string) => void;
}

/** One storage action of a clone, as reported to callers. */
export interface CloneDiskReport {
  target: string;
  kind: 'copy' | 'overlay';
  source: string;
  dest: string;
  format?: string;
  pool?: string;
  volume?: string;
  /** Bytes the copy processes (the source file's length; 0 for an overlay). */
  bytes: number;
}

/** What domainClone returns: the new domain and what was done (or, with dryRun, would be done). */
export interface CloneResult {
  name: string;
  uuid: string;
  /** The clone's definition (inactive XML). */
  xml: string;
  disks: CloneDiskReport[];
  /** Disks used as they are: target and why (virt-clone's messages). */
  kept: { target: string; reason: string }[];
  warnings: string[];
  /** Whether the clone was started (--start). */
  started: boolean;
  dryRun: boolean;
}

/**
 * Cloning (virt-clone). Implemented once over the rest of a connection by src/drivers/clone/clone.ts;
 * the test driver and the daemon provide it, the remote client runs it as a daemon job.
 */
export interface CloneConnection {
  /**
   * Clones the domain `ref` (shut off or paused) to a new domain: new name, uuid and MACs, disks
   * copied (or overlaid with `linked`) beside the originals. Everything is checked before anything is
   * changed; on failure or cancel nothing is left behind. In tvirtd it runs as a cancellable job on
   * the original, with progress events.
   * @throws NO_DOMAIN, OPERATION_INVALID (running original, uncloneable disk), DOM_EXIST (name
   *   taken), INVALID_ARG (options), OPERATION_ABORTED (cancelled), OPERATION_FAILED (copy failed).
   */
  domainClone(ref: string, opts?: DomainCloneOptions): Promise<CloneResult>;
}
