import { join } from 'node:path';
import type { FileSystem } from './fs.js';
import { readFully } from './fs.js';
import { FILE_HEADER_SIZE, FORMAT_VERSION, Msg, MessageFlag, RECORD_PREFIX, RecordType, SEGMENT_MAGIC, checkRecord, fileHeaderProblem, recordSize } from './record.js';
import { Segment, handleIndex, handleSegment, makeHandle } from './segment.js';
/** One stream's live messages as recovery found them (LogStore wraps them with their stream). */
export interface RecoveredQueue {
  readonly id: number;
  readonly name: string;
  readonly handles: Float64Array;
  readonly delivered: Uint8Array;
}
import { HandleList } from './handle-list.js';
import { StoreFormatError } from './errors.js';

export const SEGMENT_SUFFIX = '.wlog';
export const COMPACT_SUFFIX = '.compact';
const SEGMENT_NAME = /^(\d{10})\.wlog$/;

export function segmentFileName(number: number): string {
  return `${String(number).padStart(10, '0')}${SEGMENT_SUFFIX}`;
}

/** Which stream ids are alive, from the definitions file. */
export interface QueueDirectory {
  isKnownQueue(id: number): boolean;
}

export interface RecoveredSegments {
  segments: Map<number, Segment>;
  /** Per stream id, the handles enqueued in log order (not yet filtered for removal). */
  lists: Map<number, HandleList>;
  newestNumber: number;
  /** The newest file was cut back (torn tail): it must be synced before new data is confirmed. */
  truncatedFds: number[];
}

/**
 * Each known queue's live messages in log order, with their delivered flags: the handles recovery found,
 * less those no longer held by the queue (removed later in the log).
 */
export function recoveredQueues(
  queues: ReadonlyMap<number, string>,
  lists: ReadonlyMap<number, HandleList>,
  segments: ReadonlyMap<number, Segment>,
): RecoveredQueue[] {
  const recovered: RecoveredQueue[] = [];
  for (const [id, name] of queues) {
    const list = lists.get(id);
    const handles = new Float64Array(list?.length ?? 0);
    const delivered = new Uint8Array(handles.length);
    let n = 0;
    for (let i = 0; list && i < list.length; i++) {
      const handle = list.items[i] ?? 0;
      const segment = segments.get(handleSegment(handle));
      const index = handleIndex(handle);
      if (!segment?.heldBy(index, id)) continue;
      handles[n] = handle;
      delivered[n++] = segment.wasDelivered(index) ? 1 : 0;
    }
    recovered.push({ id, name, handles: handles.subarray(0, n), delivered: delivered.subarray(0, n) });
  }
  return recovered;
}

/**
 * Rebuilds the in-memory index from the segment files, oldest first (FORMAT.md, "Recovery"). Each file is
 * read whole in one pass; every record's CRC is checked. The first bad or incomplete record ends the
 * useful part of its file: the newest file is truncated there (a torn tail), an older file is left as is
 * and the skipped bytes are reported.
 */
export function recoverSegments(fs: FileSystem, dir: string, queues: QueueDirectory, problems: string[]): RecoveredSegments {
  const result: RecoveredSegments = { segments: new Map(), lists: new Map(), newestNumber: 0, truncatedFds: [] };
  const numbers = listSegments(fs, dir);
  let scratch = Buffer.allocUnsafe(0);
  numbers.forEach((number, i) => {
    const path = join(dir, segmentFileName(number));
    const fd = fs.openSync(path, 'r+');
    const size = fs.sizeSync(fd);
    if (scratch.length < size) scratch = Buffer.allocUnsafe(size);
    const data = scratch.subarray(0, readFully(fs, fd, scratch, 0, size, 0));
    const newest = i === numbers.length - 1;
    const headerProblem = fileHeaderProblem(data, SEGMENT_MAGIC, number);
    if (headerProblem) return void setAsideBadFile(fs, fd, path, headerProblem, data, newest, problems);
    const segment = new Segment(number, path, fd, data.length);
    const end = new SegmentScanner(segment, queues, result).scan(data);
    if (end < data.length) reportDamage(fs, segment, end, data.length, newest, problems, result);
    segment.sealed = true;
    segment.trim();
    result.segments.set(number, segment);
    result.newestNumber = number;
  });
  for (const segment of result.segments.values()) segment.singleHolder = undefined;
  if (numbers.length > 0) result.newestNumber = Math.max(result.newestNumber, numbers[numbers.length - 1] ?? 0);
  return result;
}

/** Segment numbers present, ascending. Leftovers of an interrupted compaction are deleted. */
function listSegments(fs: FileSystem, dir: string): number[] {
  const numbers: number[] = [];
  for (const name of fs.readdirSync(dir)) {
    if (name.endsWith(COMPACT_SUFFIX)) fs.unlinkSync(join(dir, name));
    const match = SEGMENT_NAME.exec(name);
    if (match?.[1]) numbers.push(Number(match[1]));
  }
  return numbers.sort((a, b) => a - b);
}

function setAsideBadFile(fs: FileSystem, fd: number, path: string, problem: string, data: Buffer, newest: boolean, problems: string[]): void {
  fs.closeSync(fd);
  if (data.length >= 12 && data.toString('latin1', 0, 8) === SEGMENT_MAGIC && data.readUInt32LE(8) > FORMAT_VERSION) {
    throw new StoreFormatError(`${path}: ${problem}; refusing to open a store written by a newer Warren`);
  }
  if (newest && data.length <= FILE_HEADER_SIZE) {
    // Crash between creating the file and syncing its header: nothing in it was ever confirmed.
    fs.unlinkSync(path);
    problems.push(`${path}: empty newest segment (${problem}) removed`);
    return;
  }
  fs.renameSync(path, `${path}.corrupt`);
  problems.push(`${path}: ${problem}; file set aside as ${path}.corrupt`);
}

function reportDamage(fs: FileSystem, segment: Segment, end: number, size: number, newest: boolean, problems: string[], result: RecoveredSegments): void {
  segment.size = end;
  if (newest) {
    fs.truncateSync(segment.fd, end);
    result.truncatedFds.push(segment.fd);
    problems.push(`${segment.path}: torn or corrupt tail at offset ${end}; ${size - end} bytes cut off`);
  } else {
    problems.push(`${segment.path}: corrupt record at offset ${end}; the ${size - end} bytes after it are ignored (file kept until compaction)`);
  }
}

/** Applies one file's records to its Segment, the per-queue lists and the segments it references. */
class SegmentScanner {
  /** Queue of the newest message record (fanout Enqueue records refer to it). */
  private lastQueue = -1;

  constructor(
    private readonly segment: Segment,
    private readonly queues: QueueDirectory,
    private readonly result: RecoveredSegments,
  ) {}

  /** Returns the offset where valid data ends. */
  scan(data: Buffer): number {
    let at = FILE_HEADER_SIZE;
    while (at < data.length) {
      if (checkRecord(data, at, data.length) !== 'ok') return at;
      this.apply(data, at);
      at += recordSize(data, at);
    }
    return at;
  }

  private apply(data: Buffer, at: number): void {
    const type = data[at + RECORD_PREFIX];
    const p = at + RECORD_PREFIX + 1;
    if (type === RecordType.Message) this.message(data, at);
    else if (type === RecordType.Enqueue) this.enqueue(data.readUInt32LE(p), data.readUInt32LE(p + 4));
    else if (type === RecordType.Remove || type === RecordType.Deliver) {
      this.reference(type, data.readUInt32LE(p), data.readUInt32LE(p + 4), data.readUInt32LE(p + 8));
    }
  }

  private message(data: Buffer, at: number): void {
    const index = data.readUInt32LE(at + Msg.index);
    const delivered = (data.readUInt16LE(at + Msg.flags) & MessageFlag.delivered) !== 0;
    const count = data.readUInt16LE(at + Msg.queueCount);
    const holders: number[] = [];
    for (let i = 0; i < count; i++) {
      const queue = data.readUInt32LE(at + Msg.queues + 4 * i);
      if (this.queues.isKnownQueue(queue)) holders.push(queue);
    }
    this.lastQueue = holders[0] ?? -1;
    if (holders.length === 0) return void this.segment.addDeadMessage(index, at);
    this.segment.addMessage(index, at, delivered);
    if (count > 1) this.segment.setHolders(index, holders);
    else this.segment.setSingleHolder(index, holders[0] ?? 0);
    const handle = makeHandle(this.segment.number, index);
    for (const queue of holders) {
      this.segment.noteStream(queue);
      this.listOf(queue).push(handle);
    }
  }

  private enqueue(queue: number, index: number): void {
    if (!this.queues.isKnownQueue(queue) || !this.segment.isPresent(index)) return;
    this.segment.addHolder(index, queue, this.lastQueue);
    this.segment.noteStream(queue);
    this.listOf(queue).push(makeHandle(this.segment.number, index));
  }

  private reference(type: number, queue: number, segmentNumber: number, index: number): void {
    const target = segmentNumber === this.segment.number ? this.segment : this.result.segments.get(segmentNumber);
    if (!target || !target.isPresent(index)) return;
    this.segment.addReference(segmentNumber);
    if (type === RecordType.Remove) target.release(index, queue);
    else target.markDelivered(index);
  }

  private listOf(queue: number): HandleList {
    let list = this.result.lists.get(queue);
    if (!list) this.result.lists.set(queue, (list = new HandleList()));
    return list;
  }
}
