import * as nodeFs from 'node:fs';

/**
 * Every file operation the log store makes goes through this seam, so tests can inject failures
 * (FaultyFileSystem) and prove that nothing reported durable is lost.
 *
 * Writes and reads are synchronous on purpose: the store writes large buffered chunks into the page cache
 * (well under a millisecond per MiB) and reads single records with pread; only the slow part, fdatasync,
 * runs on the thread pool so the event loop keeps serving while the disk flushes.
 */
export interface FileSystem {
  /** flags as in fs.openSync ('r', 'r+', 'wx', ...). Directories: open with 'r' to fsync them. */
  openSync(path: string, flags: string): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  /** Durably flushes file data (and the metadata needed to read it back). Directories: fsync. */
  sync(fd: number, callback: (error: Error | null) => void): void;
  closeSync(fd: number): void;
  sizeSync(fd: number): number;
  truncateSync(fd: number, length: number): void;
  renameSync(from: string, to: string): void;
  unlinkSync(path: string): void;
  readdirSync(path: string): string[];
  mkdirSync(path: string): void;
  readFileSync(path: string): Buffer;
  freeBytes(path: string): Promise<number>;
}

export class RealFileSystem implements FileSystem {
  openSync(path: string, flags: string): number {
    return nodeFs.openSync(path, flags, 0o644);
  }
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    return nodeFs.writeSync(fd, buffer, offset, length, position);
  }
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
    return nodeFs.readSync(fd, buffer, offset, length, position);
  }
  sync(fd: number, callback: (error: Error | null) => void): void {
    // fdatasync fails with EINVAL on directory fds on some systems; fsync works for both.
    nodeFs.fdatasync(fd, (error) => {
      if (error && error.code === 'EINVAL') nodeFs.fsync(fd, callback);
      else callback(error);
    });
  }
  closeSync(fd: number): void {
    nodeFs.closeSync(fd);
  }
  sizeSync(fd: number): number {
    return nodeFs.fstatSync(fd).size;
  }
  truncateSync(fd: number, length: number): void {
    nodeFs.ftruncateSync(fd, length);
  }
  renameSync(from: string, to: string): void {
    nodeFs.renameSync(from, to);
  }
  unlinkSync(path: string): void {
    nodeFs.unlinkSync(path);
  }
  readdirSync(path: string): string[] {
    return nodeFs.readdirSync(path);
  }
  mkdirSync(path: string): void {
    nodeFs.mkdirSync(path, { recursive: true });
  }
  readFileSync(path: string): Buffer {
    return nodeFs.readFileSync(path);
  }
  async freeBytes(path: string): Promise<number> {
    const stats = await nodeFs.promises.statfs(path);
    return stats.bavail * stats.bsize;
  }
}

/** Writes all of `length` bytes (writeSync may write less than asked). */
export function writeFully(fs: FileSystem, fd: number, buffer: Uint8Array, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const n = fs.writeSync(fd, buffer, offset + done, length - done, position + done);
    if (n <= 0) throw new Error(`short write at ${position + done}`);
    done += n;
  }
}

/** Reads up to `length` bytes; fewer only at end of file. Returns bytes read. */
export function readFully(fs: FileSystem, fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buffer, offset + done, length - done, position + done);
    if (n <= 0) break;
    done += n;
  }
  return done;
}

/** Closes a descriptor whose close can no longer matter (shutdown, a deleted file). */
export function closeQuietly(fs: FileSystem, fd: number): void {
  if (fd < 0) return;
  try {
    fs.closeSync(fd);
  } catch {
    // already closed or never valid: nothing left to release
  }
}
