import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { closeQuietly, readFully, writeFully, type FileSystem } from '../fs.js';
import { CHUNK_HEADER_BYTES, SEGMENT_MAGIC, chunkIntact, readChunkHeader } from './chunk.js';
import { emptySegment, type RecoveredLog, type SegmentState, type SegmentStorage } from './segment-storage.js';

/** What a log's files need from the store's commit: which descriptors to sync, when to commit. */
export interface FileLogHost {
  readonly fs: FileSystem;
  /** `fd` was written (or a file created in it): sync it in the next commit. */
  dirty(fd: number): void;
  /** Close `fd` once no sync of it is in flight (a removed segment). */
  release(fd: number): void;
  /** Buffered records wait: commit soon. */
  requestCommit(): void;
}

export interface FileSegment {
  readonly fd: number;
  readonly path: string;
}

export const NAME_FILE = 'NAME';
export const OFFSETS_FILE = 'offsets.wsoff';
const SEGMENT_SUFFIX = '.wsseg';

/** The directory of a stream log: a digest of its name (names may be longer than a file name may be). */
export function logDirName(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 32);
}

function segmentFileName(firstOffset: number): string {
  return `${String(firstOffset).padStart(20, '0')}${SEGMENT_SUFFIX}`;
}

/** One stream log's files: `<dir>/NAME`, segment files named by first offset, `offsets.wsoff`. */
export class FileSegmentStorage implements SegmentStorage<FileSegment> {
  private offsetsFd = -1;
  private offsetsSize = 0;
  private readonly dirFd: number;

  constructor(
    private readonly host: FileLogHost,
    private readonly dir: string,
    offsetsFile: { fd: number; size: number } | undefined,
    private readonly onDrop: () => void,
  ) {
    this.dirFd = host.fs.openSync(dir, 'r');
    if (offsetsFile !== undefined) {
      this.offsetsFd = offsetsFile.fd;
      this.offsetsSize = offsetsFile.size;
    }
  }

  /** A new log's directory with its NAME file (durable with the first commit). */
  static create(host: FileLogHost, parentFd: number, dir: string, name: string, onDrop: () => void): FileSegmentStorage {
    host.fs.mkdirSync(dir);
    const fd = host.fs.openSync(join(dir, NAME_FILE), 'w');
    const bytes = Buffer.from(name, 'utf8');
    writeFully(host.fs, fd, bytes, 0, bytes.length, 0);
    host.dirty(fd);
    host.release(fd);
    host.dirty(parentFd);
    return new FileSegmentStorage(host, dir, undefined, onDrop);
  }

  createSegment(firstOffset: number): { handle: FileSegment; size: number } {
    const path = join(this.dir, segmentFileName(firstOffset));
    const fd = this.host.fs.openSync(path, 'w+');
    writeFully(this.host.fs, fd, SEGMENT_MAGIC, 0, SEGMENT_MAGIC.length, 0);
    this.host.dirty(fd);
    this.host.dirty(this.dirFd);
    return { handle: { fd, path }, size: SEGMENT_MAGIC.length };
  }

  writeChunk(segment: FileSegment, chunk: Buffer, position: number): void {
    writeFully(this.host.fs, segment.fd, chunk, 0, chunk.length, position);
    this.host.dirty(segment.fd);
  }

  read(segment: FileSegment, position: number, length: number): Buffer {
    const buffer = Buffer.allocUnsafe(length);
    const n = readFully(this.host.fs, segment.fd, buffer, 0, length, position);
    return n === length ? buffer : buffer.subarray(0, n);
  }

  deleteSegment(segment: FileSegment): void {
    this.host.fs.unlinkSync(segment.path);
    this.host.release(segment.fd);
    this.host.dirty(this.dirFd);
  }

  writeOffsets(changes: ReadonlyArray<readonly [string, number]>): void {
    if (this.offsetsFd < 0) {
      this.offsetsFd = this.host.fs.openSync(join(this.dir, OFFSETS_FILE), 'w+');
      this.host.dirty(this.dirFd);
    }
    const frames = changes.map(([reference, offset]) => offsetFrame(reference, offset));
    const bytes = Buffer.concat(frames);
    writeFully(this.host.fs, this.offsetsFd, bytes, 0, bytes.length, this.offsetsSize);
    this.offsetsSize += bytes.length;
    this.host.dirty(this.offsetsFd);
  }

  /** NAME goes first: a directory without it is a dropped log, whatever a crash left in it. */
  drop(segments: readonly FileSegment[]): void {
    const fs = this.host.fs;
    for (const file of fs.readdirSync(this.dir).sort((a, b) => (a === NAME_FILE ? -1 : b === NAME_FILE ? 1 : 0))) {
      fs.unlinkSync(join(this.dir, file));
    }
    for (const segment of segments) this.host.release(segment.fd);
    if (this.offsetsFd >= 0) this.host.release(this.offsetsFd);
    this.offsetsFd = -1;
    this.host.dirty(this.dirFd);
    this.host.release(this.dirFd);
    this.onDrop();
  }

  closeFiles(segments: readonly FileSegment[]): void {
    for (const segment of segments) closeQuietly(this.host.fs, segment.fd);
    closeQuietly(this.host.fs, this.offsetsFd);
    closeQuietly(this.host.fs, this.dirFd);
  }

  requestFlush(): void {
    this.host.requestCommit();
  }
}

/** u32 length of the JSON, u32 crc32 of it, JSON [reference, offset]. */
function offsetFrame(reference: string, offset: number): Buffer {
  const json = Buffer.from(JSON.stringify([reference, offset]), 'utf8');
  const frame = Buffer.allocUnsafe(8 + json.length);
  frame.writeUInt32LE(json.length, 0);
  frame.writeUInt32LE(crc32(json), 4);
  json.copy(frame, 8);
  return frame;
}

export interface RecoveredFileLog {
  readonly name: string;
  readonly log: RecoveredLog<FileSegment>;
  readonly offsetsFile: { fd: number; size: number } | undefined;
  /** Descriptors truncated on open: synced before the store is used. */
  readonly truncated: number[];
}

/**
 * Reads one log directory back: segment files in offset order, each indexed from its chunk headers; the
 * newest segment's chunks are checked whole (only it can hold a torn write: older ones were synced
 * before the next began) and a torn tail is cut off. Returns undefined for a dropped log (no NAME): its
 * leftovers are removed.
 */
export function recoverLogDir(fs: FileSystem, dir: string, problems: string[]): RecoveredFileLog | undefined {
  const files = fs.readdirSync(dir);
  if (!files.includes(NAME_FILE)) {
    for (const file of files) fs.unlinkSync(join(dir, file));
    return undefined;
  }
  const name = fs.readFileSync(join(dir, NAME_FILE)).toString('utf8');
  const truncated: number[] = [];
  const segmentFiles = files.filter((f) => f.endsWith(SEGMENT_SUFFIX)).sort();
  const segments: SegmentState<FileSegment>[] = [];
  const firstOffsetOf = (file: string): number => Number(file.slice(0, -SEGMENT_SUFFIX.length));
  segmentFiles.forEach((file, i) => {
    const path = join(dir, file);
    const fd = fs.openSync(path, 'r+');
    const next = segmentFiles[i + 1];
    const limit = next === undefined ? undefined : firstOffsetOf(next);
    const state = indexSegment(fs, { fd, path }, firstOffsetOf(file), limit, problems, `${name}/${file}`);
    if (state.size !== fs.sizeSync(fd)) {
      fs.truncateSync(fd, state.size);
      truncated.push(fd);
    }
    segments.push(state);
  });
  const { offsets, file } = recoverOffsets(fs, dir, files, truncated);
  return { name, log: { segments, offsets }, offsetsFile: file, truncated };
}

/**
 * `limit`: the next segment's first offset (undefined for the newest segment). An older segment's chunks
 * are not checksummed here, so a damaged header must at least not claim offsets outside the segment:
 * reads would otherwise look for newer records in it.
 */
function indexSegment(fs: FileSystem, handle: FileSegment, firstOffset: number, limit: number | undefined, problems: string[], label: string): SegmentState<FileSegment> {
  const newest = limit === undefined;
  const size = fs.sizeSync(handle.fd);
  const state = emptySegment(handle, firstOffset, SEGMENT_MAGIC.length);
  const magic = Buffer.alloc(SEGMENT_MAGIC.length);
  readFully(fs, handle.fd, magic, 0, magic.length, 0);
  if (!magic.equals(SEGMENT_MAGIC)) {
    if (size !== 0) problems.push(`stream segment ${label}: bad file header, its contents are dropped`);
    writeFully(fs, handle.fd, SEGMENT_MAGIC, 0, SEGMENT_MAGIC.length, 0);
    return state;
  }
  const head = Buffer.alloc(CHUNK_HEADER_BYTES);
  let expected = firstOffset;
  while (state.size < size) {
    const n = readFully(fs, handle.fd, head, 0, CHUNK_HEADER_BYTES, state.size);
    const header = n === CHUNK_HEADER_BYTES ? readChunkHeader(head) : undefined;
    const intact =
      header !== undefined &&
      state.size + header.length <= size &&
      header.firstOffset >= expected &&
      (newest || header.firstOffset + header.count <= limit) &&
      (!newest || chunkIntact(readWhole(fs, handle.fd, state.size, header.length)));
    if (!intact) {
      problems.push(`stream segment ${label}: ${size - state.size} bytes after offset ${expected} are torn or corrupt and were cut off`);
      break;
    }
    state.chunkOffsets.push(header.firstOffset);
    state.chunkPositions.push(state.size);
    state.chunkTimestamps.push(header.timestamp);
    state.chunkCounts.push(header.count);
    state.size += header.length;
    expected = header.firstOffset + header.count;
  }
  return state;
}

function readWhole(fs: FileSystem, fd: number, position: number, length: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  return buffer.subarray(0, readFully(fs, fd, buffer, 0, length, position));
}

/**
 * Replays the offsets file; a torn last frame ends it and is cut off (the next write goes there). The
 * file is appended to, a frame per change; it is not compacted (a known limit: a consumer storing its
 * offset after every message grows it by ~40 bytes a time).
 */
function recoverOffsets(fs: FileSystem, dir: string, files: readonly string[], truncated: number[]): { offsets: Map<string, number>; file: { fd: number; size: number } | undefined } {
  const offsets = new Map<string, number>();
  if (!files.includes(OFFSETS_FILE)) return { offsets, file: undefined };
  const path = join(dir, OFFSETS_FILE);
  const bytes = fs.readFileSync(path);
  let at = 0;
  while (at + 8 <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    if (at + 8 + length > bytes.length) break;
    const json = bytes.subarray(at + 8, at + 8 + length);
    if (crc32(json) !== bytes.readUInt32LE(at + 4)) break;
    const [reference, offset] = JSON.parse(json.toString('utf8')) as [string, number];
    offsets.set(reference, offset);
    at += 8 + length;
  }
  const fd = fs.openSync(path, 'r+');
  if (at !== bytes.length) {
    fs.truncateSync(fd, at);
    truncated.push(fd);
  }
  return { offsets, file: { fd, size: at } };
}
