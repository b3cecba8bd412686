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

interface Definition {
  kind: DefinitionKind;
  key: string;
  json: string;
}

/**
 * Durable definitions and the queue-name <-> stream-id table, journalled in one small file. On open the
 * journal is replayed and rewritten as a snapshot (temp file, sync, rename), so it never carries a torn
 * tail or dead records for long. Writes are buffered and flushed/synced by the store's group commit.
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
      if (type === RecordType.DefinitionPut) this.definitions.set(definitionKey(kind, key), { kind, key, json: data.toString('utf8', p, end) });
      else this.definitions.delete(definitionKey(kind, key));
    } else if (type === RecordType.QueueId) {
      this.rememberQueue(data.readUInt32LE(p), data.toString('utf8', p + 4, end));
    } else if (type === RecordType.QueueDrop) {
      this.forgetQueue(data.readUInt32LE(p), data.readUInt32LE(p + 4));
    }
  }

  private rememberQueue(id: number, name: string): void {
    this.idsByName.set(name, id);
    this.namesById.set(id, name);
    if (id >= this.nextQueueId) this.nextQueueId = id + 1;
  }

  private forgetQueue(id: number, segment: number): void {
    const name = this.namesById.get(id);
    if (name !== undefined && this.idsByName.get(name) === id) this.idsByName.delete(name);
    this.namesById.delete(id);
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
      this.appendBytes(fileHeader(DEFINITIONS_MAGIC, 0));
      for (const [id, name] of this.namesById) this.encodeQueueId(id, name);
      for (const [id, segment] of this.dropped) this.encodeQueueDrop(id, segment);
      for (const d of this.definitions.values()) this.encodeDefinition(RecordType.DefinitionPut, d.kind, d.key, d.json);
      writeFully(this.fs, fd, this.pending, 0, this.pendingUsed, 0);
      this.fileSize = this.pendingUsed;
      this.pendingUsed = 0;
      await syncFile(fd);
    } finally {
      this.fs.closeSync(fd);
    }
    this.fs.renameSync(tmp, this.path);
    if (this.fd >= 0) this.fs.closeSync(this.fd);
    this.fd = this.fs.openSync(this.path, 'r+');
    this.dirty = false;
  }

  definitionsList(): DefinitionRecord[] {
    const list: DefinitionRecord[] = [];
    for (const d of this.definitions.values()) list.push({ kind: d.kind, key: d.key, value: JSON.parse(d.json) as unknown });
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

  put(kind: DefinitionKind, key: string, value: unknown): void {
    const json = JSON.stringify(value) ?? 'null';
    this.definitions.set(definitionKey(kind, key), { kind, key, json });
    this.encodeDefinition(RecordType.DefinitionPut, kind, key, json);
  }

  delete(kind: DefinitionKind, key: string): void {
    if (!this.definitions.delete(definitionKey(kind, key))) return;
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

  /** Writes buffered records to the file. Returns whether anything was written. */
  flush(): boolean {
    if (this.pendingUsed === 0) return false;
    writeFully(this.fs, this.fd, this.pending, 0, this.pendingUsed, this.fileSize);
    this.fileSize += this.pendingUsed;
    this.pendingUsed = 0;
    this.dirty = true;
    return true;
  }

  get syncFd(): number {
    return this.fd;
  }

  close(): void {
    if (this.fd >= 0) this.fs.closeSync(this.fd);
    this.fd = -1;
  }

  private encodeDefinition(type: number, kind: string, key: string, json: string): void {
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
