import type { FileSystem } from './fs.js';
import { RealFileSystem } from './fs.js';
import { seededRandom } from '../util/prng.js';

export interface FaultOptions {
  seed: number;
  /** Probability that a write fails (after writing a random prefix: a torn write). */
  writeFailure?: number;
  /** Probability that a sync fails; the data written since the file's last good sync is then lost. */
  syncFailure?: number;
}

function ioError(op: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`EIO: injected ${op} failure`);
  error.code = 'EIO';
  return error;
}

/**
 * A FileSystem that fails writes and syncs at random (from a seed), the way disks do: a failed write may
 * have written part of its data; a failed fsync may have dropped every dirty page since the last good one
 * (Linux marks them clean anyway), which is simulated by cutting the file back to its last synced length.
 */
export class FaultyFileSystem extends RealFileSystem {
  private readonly random: () => number;
  /** Length of each fd's file as of its last successful sync. */
  private readonly syncedLength = new Map<number, number>();
  injected = 0;

  constructor(private readonly faults: FaultOptions) {
    super();
    this.random = seededRandom(faults.seed);
  }

  override openSync(path: string, flags: string): number {
    const fd = super.openSync(path, flags);
    this.syncedLength.set(fd, flags.startsWith('w') ? 0 : super.sizeSync(fd));
    return fd;
  }

  override writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    if (this.random() < (this.faults.writeFailure ?? 0)) {
      this.injected++;
      const torn = Math.floor(this.random() * length);
      if (torn > 0) super.writeSync(fd, buffer, offset, torn, position);
      throw ioError('write');
    }
    return super.writeSync(fd, buffer, offset, length, position);
  }

  override sync(fd: number, callback: (error: Error | null) => void): void {
    if (this.random() < (this.faults.syncFailure ?? 0)) {
      this.injected++;
      const synced = this.syncedLength.get(fd);
      try {
        if (synced !== undefined && super.sizeSync(fd) > synced) super.truncateSync(fd, synced);
      } catch {
        // directories cannot be truncated; losing their entries is not simulated
      }
      setImmediate(callback, ioError('fsync'));
      return;
    }
    super.sync(fd, (error) => {
      if (!error) {
        try {
          this.syncedLength.set(fd, super.sizeSync(fd));
        } catch {
          // fd closed meanwhile
        }
      }
      callback(error);
    });
  }

  override closeSync(fd: number): void {
    this.syncedLength.delete(fd);
    super.closeSync(fd);
  }
}
