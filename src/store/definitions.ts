import { join } from 'node:path';
import type { FileSystem } from './fs.js';
import { readFully, writeFully } from './fs.js';
import {
  DEFINITIONS_MAGIC,
  FILE_HEADER_SIZE,
  RECORD_PREFIX,
  RecordType,
  checkRecord,
  fileHeader,
  fileHeaderProblem,
  recordSize,
  sealRecord,
} from './record.js';
import { StoreFormatError } from './errors.js';
import type { DefinitionKind, DefinitionRecord } from './store.js';

export const DEFINITIONS_FILE = 'definitions.wdef';

/**
 * A live definition. `json` as read from the file or written; record values (kind 'record', many and
 * large: the job library's state) keep only the value object instead, shared with the broker's record
 * tables, so each record is held once in memory (a snapshot stringifies it again).
 */
interface Definition {
  kind: DefinitionKind;
  key: string;
  json: string | undefined;
  value: unknown;
  /** Size of its journal record, for the live-bytes estimate that triggers a running compaction. */
  bytes: number;
}

/** A running compaction: the snapshot file, written beside the journal until its first sync is done. */
interface Compaction {
  fd: number;
  size: number;
  dirty: boolean;
  /** Number of the sync round that first covers the snapshot (undefined: not yet in a round). */
  round: number | undefined;
}

/** A journal smaller than this is never compacted while running (only at open). */
export const COMPACT_MIN_BYTES = 4 * 1024 * 1024;
/** A larger journal is compacted while running once it is this many times the live data (see DefinitionsLog). */
export const COMPACT_LIVE_FACTOR = 3;

/**
 * Durable definitions and the queue-name <-> stream-id table, journalled in one small file. On open the
 * journal is replayed and rewritten as a snapshot (temp file, sync, rename), so it never carries a torn
 * tail or dead records for long. Writes are buffered and flushed/synced by the store's group commit.
 *
 * While running, the journal is compacted once it is over COMPACT_MIN_BYTES and its garbage is more
 * than twice the live definitions (record tables of a job queue put and delete all the time). A
 * snapshot stringifies every live record again, so with the trigger at twice the live size (garbage
 * equal to it) each journalled byte was paid for once more, and a job queue draining a backlog (live
 * data shrinking while the journal grows) was compacted over and over: 14-20% of the broker's busy
 * time in bench/jobs.ts's process phase. At three times, a snapshot byte costs half a byte written
 * at most, for a journal up to three times the live data on disk. A snapshot is written to
 * a temp file, and from then on every flush goes to both files, both synced by the group commit, until
 * the round that first synced the snapshot is done; then the temp file is renamed over the journal (the
 * data directory is synced with the next round) and the old descriptor is closed once no round still
 * in flight may sync it. A crash at any point leaves either file complete for every confirmed write.
 */
export class DefinitionsLog {
  private fd = -1;
  private fileSize = 0;
  private pending = Buffer.allocUnsafe(4096);
  private pendingUsed = 0;
  private readonly definitions = new Map<string, Definition>();
  private readonly idsByName = new Map<string, number>();
  private readonly namesById = new Map<number, string>();
  /** Dropped stream id -> newest segment number when it was dropped (records up to there are ignored). */
  private readonly dropped = new Map<number, number>();
  private nextQueueId = 1;
  /** Bytes written since the last sync began. */
  dirty = false;
  /** Estimated bytes of a snapshot of what is live (definitions, queue ids, drops). */
  private liveBytes = 0;
  private compaction: Compaction | undefined;
  /** The journal's descriptor before a compaction's rename: closed once round `afterRound` is synced. */
  private retiring: { fd: number; afterRound: number }[] = [];
  private roundsTaken = 0;
  private roundsSynced = 0;
  /** The data directory must be synced (a compaction renamed the journal). */
  directoryChanged = false;
  /** Running compactions finished (for tests and metrics). */
  compactions = 0;

  constructor(
    private readonly fs: FileSystem,
    private readonly dataDir: string,
  ) {}

  get path(): string {
    return join(this.dataDir, DEFINITIONS_FILE);
  }

  /** Replays the journal; damage cuts it off at the first bad record (reported in `problems`). */
  load(problems: string[]): void {
    let data: Buffer;
    try {
      data = this.fs.readFileSync(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const headerProblem = fileHeaderProblem(data, DEFINITIONS_MAGIC);
    if (headerProblem) throw new StoreFormatError(`${this.path}: ${headerProblem}`);
    let at = FILE_HEADER_SIZE;
    while (at < data.length) {
      const check = checkRecord(data, at, data.length);
      if (check !== 'ok') {
        problems.push(`${this.path}: ${check} record at offset ${at}; ${data.length - at} bytes after it dropped`);
        break;
      }
      this.replay(data, at);
      at += recordSize(data, at);
    }
  }

  private replay(data: Buffer, at: number): void {
    const type = data[at + RECORD_PREFIX];
    const end = at + recordSize(data, at);
    let p = at + RECORD_PREFIX + 1;
    if (type === RecordType.DefinitionPut || type === RecordType.DefinitionDelete) {
      const kindLength = data[p] ?? 0;
      const kind = data.toString('utf8', p + 1, p + 1 + kindLength) as DefinitionKind;
      p += 1 + kindLength;
      const keyLength = data.readUInt32LE(p);
      const key = data.toString('utf8', p + 4, p + 4 + keyLength);
      p += 4 + keyLength;
      if (type === RecordType.DefinitionPut) this.setDefinition({ kind, key, json: data.toString('utf8', p, end), value: undefined, bytes: end - at });
      else this.deleteLive(definitionKey(kind, key));
    } else if (type === RecordType.QueueId) {
      this.rememberQueue(data.readUInt32LE(p), data.toString('utf8', p + 4, end));
    } else if (type === RecordType.QueueDrop) {
      this.forgetQueue(data.readUInt32LE(p), data.readUInt32LE(p + 4));
    }
  }

  private setDefinition(d: Definition): void {
    const id = definitionKey(d.kind, d.key);
    this.liveBytes += d.bytes - (this.definitions.get(id)?.bytes ?? 0);
    this.definitions.set(id, d);
  }

  private deleteLive(id: string): boolean {
    const old = this.definitions.get(id);
    if (old === undefined) return false;
    this.liveBytes -= old.bytes;
    this.definitions.delete(id);
    return true;
  }

  private rememberQueue(id: number, name: string): void {
    if (!this.namesById.has(id)) this.liveBytes += RECORD_PREFIX + 5 + Buffer.byteLength(name);
    this.idsByName.set(name, id);
    this.namesById.set(id, name);
    if (id >= this.nextQueueId) this.nextQueueId = id + 1;
  }

  private forgetQueue(id: number, segment: number): void {
    const name = this.namesById.get(id);
    if (name !== undefined && this.idsByName.get(name) === id) this.idsByName.delete(name);
    if (name !== undefined) this.liveBytes -= RECORD_PREFIX + 5 + Buffer.byteLength(name);
    this.namesById.delete(id);
    if (!this.dropped.has(id)) this.liveBytes += RECORD_PREFIX + 9;
    this.dropped.set(id, segment);
    if (id >= this.nextQueueId) this.nextQueueId = id + 1;
  }

  /**
   * Rewrites the file as a snapshot of what is live. Drops of stream ids whose records can no longer
   * exist (all segments up to the drop are gone: oldest remaining segment > drop segment) are pruned.
   */
  async rewrite(oldestSegment: number, syncFile: (fd: number) => Promise<void>): Promise<void> {
    for (const [id, segment] of this.dropped) if (segment < oldestSegment) this.dropped.delete(id);
    const tmp = `${this.path}.tmp`;
    const fd = this.fs.openSync(tmp, 'w');
    try {
      this.pendingUsed = 0;
      const size = this.writeSnapshot(fd);
      this.fileSize = size;
      await syncFile(fd);
    } finally {
      this.fs.closeSync(fd);
    }
    this.fs.renameSync(tmp, this.path);
    if (this.fd >= 0) this.fs.closeSync(this.fd);
    this.fd = this.fs.openSync(this.path, 'r+');
    this.dirty = false;
  }

  /** Writes a snapshot of what is live to `fd` from offset 0 (the pending buffer is left as it was). */
  private writeSnapshot(fd: number): number {
    const [pending, pendingUsed] = [this.pending, this.pendingUsed];
    this.pending = Buffer.allocUnsafe(Math.max(4096, this.liveBytes + FILE_HEADER_SIZE));
    this.pendingUsed = 0;
    try {
      this.appendBytes(fileHeader(DEFINITIONS_MAGIC, 0));
      for (const [id, name] of this.namesById) this.encodeQueueId(id, name);
      for (const [id, segment] of this.dropped) this.encodeQueueDrop(id, segment);
      for (const d of this.definitions.values()) this.encodeDefinition(RecordType.DefinitionPut, d.kind, d.key, d.json ?? JSON.stringify(d.value) ?? 'null');
      writeFully(this.fs, fd, this.pending, 0, this.pendingUsed, 0);
      // Exact from now on: what a snapshot of this moment takes.
      this.liveBytes = this.pendingUsed - FILE_HEADER_SIZE;
      return this.pendingUsed;
    } finally {
      this.pending = pending;
      this.pendingUsed = pendingUsed;
    }
  }

  /** Copies (the restore may change them), except record values: those become the shared objects. */
  definitionsList(): DefinitionRecord[] {
    const list: DefinitionRecord[] = [];
    for (const d of this.definitions.values()) {
      const value = d.json === undefined ? structuredClone(d.value) : (JSON.parse(d.json) as unknown);
      if (d.kind === 'record') {
        d.value = value;
        d.json = undefined;
      }
      list.push({ kind: d.kind, key: d.key, value });
    }
    return list;
  }

  queues(): ReadonlyMap<number, string> {
    return this.namesById;
  }

  isDropped(id: number): boolean {
    return this.dropped.has(id);
  }

  isKnownQueue(id: number): boolean {
    return this.namesById.has(id);
  }

  /** A record's value is kept by reference (the caller must not change it afterwards). */
  put(kind: DefinitionKind, key: string, value: unknown): void {
    const json = JSON.stringify(value) ?? 'null';
    const bytes = this.encodeDefinition(RecordType.DefinitionPut, kind, key, json);
    this.setDefinition(kind === 'record' ? { kind, key, json: undefined, value, bytes } : { kind, key, json, value: undefined, bytes });
  }

  delete(kind: DefinitionKind, key: string): void {
    if (!this.deleteLive(definitionKey(kind, key))) return;
    this.encodeDefinition(RecordType.DefinitionDelete, kind, key, '');
  }

  queueId(name: string): number {
    const known = this.idsByName.get(name);
    if (known !== undefined) return known;
    const id = this.nextQueueId;
    this.rememberQueue(id, name);
    this.encodeQueueId(id, name);
    return id;
  }

  dropQueue(id: number, newestSegment: number): void {
    if (!this.namesById.has(id)) return;
    this.forgetQueue(id, newestSegment);
    this.encodeQueueDrop(id, newestSegment);
  }

  /** Writes buffered records to the file (and to a running compaction's). Returns whether anything was written. */
  flush(): boolean {
    if (this.pendingUsed === 0) return false;
    writeFully(this.fs, this.fd, this.pending, 0, this.pendingUsed, this.fileSize);
    this.fileSize += this.pendingUsed;
    const compaction = this.compaction;
    if (compaction !== undefined) {
      writeFully(this.fs, compaction.fd, this.pending, 0, this.pendingUsed, compaction.size);
      compaction.size += this.pendingUsed;
      compaction.dirty = true;
    }
    this.pendingUsed = 0;
    this.dirty = true;
    if (compaction === undefined && this.fileSize > COMPACT_MIN_BYTES && this.fileSize > COMPACT_LIVE_FACTOR * (this.liveBytes + FILE_HEADER_SIZE)) this.startCompaction();
    return true;
  }

  /** The snapshot of this moment goes to the temp file; everything flushed from now on goes to both. */
  private startCompaction(): void {
    const fd = this.fs.openSync(`${this.path}.tmp`, 'w');
    try {
      this.compaction = { fd, size: this.writeSnapshot(fd), dirty: true, round: undefined };
    } catch (error) {
      this.fs.closeSync(fd);
      throw error;
    }
  }

  /**
   * The descriptors a sync round must cover (called once per round, by the store's takeDirty); the
   * rounds are reported done in the same order through `roundSynced`.
   */
  takeDirty(fds: number[]): void {
    const round = ++this.roundsTaken;
    if (this.dirty) fds.push(this.fd);
    this.dirty = false;
    const compaction = this.compaction;
    if (compaction?.dirty === true) {
      fds.push(compaction.fd);
      compaction.dirty = false;
      compaction.round ??= round;
    }
  }

  /** A round is synced: a snapshot it covered replaces the journal; retired descriptors no round uses are closed. */
  roundSynced(): void {
    const round = ++this.roundsSynced;
    const compaction = this.compaction;
    if (compaction?.round !== undefined && round >= compaction.round) {
      this.compaction = undefined;
      this.fs.renameSync(`${this.path}.tmp`, this.path);
      // Rounds already started may still sync the old descriptor: it stays open until they are done.
      this.retiring.push({ fd: this.fd, afterRound: this.roundsTaken });
      this.fd = compaction.fd;
      this.fileSize = compaction.size;
      this.dirty = this.dirty || compaction.dirty;
      this.directoryChanged = true;
      this.compactions++;
    }
    while (this.retiring[0] !== undefined && this.retiring[0].afterRound <= round) this.fs.closeSync(this.retiring.shift()!.fd);
  }

  /** Size of the journal file (for tests: a running store's journal stays bounded). */
  get journalBytes(): number {
    return this.fileSize;
  }

  close(): void {
    if (this.fd >= 0) this.fs.closeSync(this.fd);
    this.fd = -1;
    for (const retired of this.retiring.splice(0)) this.fs.closeSync(retired.fd);
    if (this.compaction !== undefined) this.fs.closeSync(this.compaction.fd);
    this.compaction = undefined;
  }

  /** Returns the record's size. */
  private encodeDefinition(type: number, kind: string, key: string, json: string): number {
    const kindLength = Buffer.byteLength(kind);
    const keyLength = Buffer.byteLength(key);
    const size = RECORD_PREFIX + 1 + 1 + kindLength + 4 + keyLength + Buffer.byteLength(json);
    const start = this.reserve(size);
    const b = this.pending;
    let p = start + RECORD_PREFIX;
    b[p++] = type;
    b[p++] = kindLength;
    p += b.write(kind, p, 'utf8');
    b.writeUInt32LE(keyLength, p);
    p += 4;
    p += b.write(key, p, 'utf8');
    p += b.write(json, p, 'utf8');
    sealRecord(b, start, p);
    return size;
  }

  private encodeQueueId(id: number, name: string): void {
    const size = RECORD_PREFIX + 1 + 4 + Buffer.byteLength(name);
    const start = this.reserve(size);
    const b = this.pending;
    b[start + RECORD_PREFIX] = RecordType.QueueId;
    b.writeUInt32LE(id, start + RECORD_PREFIX + 1);
    const end = start + RECORD_PREFIX + 5 + b.write(name, start + RECORD_PREFIX + 5, 'utf8');
    sealRecord(b, start, end);
  }

  private encodeQueueDrop(id: number, segment: number): void {
    const start = this.reserve(RECORD_PREFIX + 9);
    const b = this.pending;
    b[start + RECORD_PREFIX] = RecordType.QueueDrop;
    b.writeUInt32LE(id, start + RECORD_PREFIX + 1);
    b.writeUInt32LE(segment, start + RECORD_PREFIX + 5);
    sealRecord(b, start, start + RECORD_PREFIX + 9);
  }

  private appendBytes(bytes: Buffer): void {
    const start = this.reserve(bytes.length);
    bytes.copy(this.pending, start);
  }

  private reserve(size: number): number {
    if (this.pendingUsed + size > this.pending.length) {
      let capacity = this.pending.length * 2;
      while (capacity < this.pendingUsed + size) capacity *= 2;
      const bigger = Buffer.allocUnsafe(capacity);
      this.pending.copy(bigger, 0, 0, this.pendingUsed);
      this.pending = bigger;
    }
    const start = this.pendingUsed;
    this.pendingUsed += size;
    return start;
  }
}

function definitionKey(kind: string, key: string): string {
  return `${kind}\u0000${key}`;
}

/** Used by tests and tools: reads the raw bytes of a file through the seam. */
export function readWhole(fs: FileSystem, fd: number): Buffer {
  const size = fs.sizeSync(fd);
  const buf = Buffer.allocUnsafe(size);
  readFully(fs, fd, buf, 0, size, 0);
  return buf;
}
