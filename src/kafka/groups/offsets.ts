/**
 * Committed group offsets, kept as the partition streams' stored consumer offsets (the same ones an AMQP
 * stream consumer with `x-stream-consumer-name` stores), keyed by the group id. So they survive a restart
 * with the log, and an AMQP consumer named like the group resumes where the group committed.
 *
 * The two conventions differ by one: a stream's stored offset is the last record the consumer is done
 * with (it resumes at stored + 1), a Kafka commit is the next record to read. A commit of N is stored as
 * N - 1; a fetch answers stored + 1. The broker never moves a committed offset on its own: only a commit
 * (or an AMQP ack under that name, which only moves it forward) does.
 *
 * The commit's metadata string is kept in memory only (lost at a restart; Warren's stream offsets have
 * no room for it).
 */
import type { GroupErrorName } from './errors.js';

/** What a partition's log offers for offsets (a StreamLog has these). */
export interface OffsetLog {
  storeOffset(reference: string, offset: number): void;
  storedOffset(reference: string): number | undefined;
}

/** The topics a group's offsets may name (the door's topic mapping satisfies this). */
export interface OffsetTopics {
  partition(topic: string, index: number): { readonly log: OffsetLog } | undefined;
  list(): ReadonlyArray<{ readonly name: string; readonly partitions: ReadonlyArray<{ readonly index: number; readonly log: OffsetLog }> }>;
}

export interface OffsetCommitEntry {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly metadata: string | null;
}

export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  /** -1: nothing committed. */
  readonly offset: number;
  readonly metadata: string;
  readonly error: GroupErrorName;
}

/** Kafka's offset.metadata.max.bytes default. */
export const MAX_METADATA_BYTES = 4096;

export class CommittedOffsets {
  /** `group \0 topic \0 partition` -> the metadata of the last commit. */
  private readonly metadata = new Map<string, string>();

  constructor(
    /** Runs the callback once everything stored so far is durable (the broker's group commit). */
    private readonly whenDurable: (callback: () => void) => void,
  ) {}

  /**
   * Stores each entry's offset under the group's name in its partition's log and resolves, per entry,
   * once they are durable: an OffsetCommit's answer means the offsets survive a crash.
   */
  async commit(topics: OffsetTopics, groupId: string, entries: readonly OffsetCommitEntry[]): Promise<GroupErrorName[]> {
    const errors = entries.map((entry): GroupErrorName => {
      if (entry.metadata !== null && Buffer.byteLength(entry.metadata) > MAX_METADATA_BYTES) return 'OFFSET_METADATA_TOO_LARGE';
      const partition = topics.partition(entry.topic, entry.partition);
      if (partition === undefined) return 'UNKNOWN_TOPIC_OR_PARTITION';
      partition.log.storeOffset(groupId, entry.offset - 1);
      this.metadata.set(key(groupId, entry.topic, entry.partition), entry.metadata ?? '');
      return 'NONE';
    });
    if (errors.includes('NONE')) await new Promise<void>((resolve) => this.whenDurable(resolve));
    return errors;
  }

  /** The group's committed offset for one partition (-1 when none, or the partition does not exist). */
  fetch(topics: OffsetTopics, groupId: string, topic: string, partition: number): CommittedOffset {
    const stored = topics.partition(topic, partition)?.log.storedOffset(groupId);
    return this.answer(groupId, topic, partition, stored);
  }

  /** Every partition the group has an offset in (OffsetFetch naming no topics). */
  fetchAll(topics: OffsetTopics, groupId: string): CommittedOffset[] {
    const found: CommittedOffset[] = [];
    for (const topic of topics.list()) {
      for (const partition of topic.partitions) {
        const stored = partition.log.storedOffset(groupId);
        if (stored !== undefined) found.push(this.answer(groupId, topic.name, partition.index, stored));
      }
    }
    return found;
  }

  private answer(groupId: string, topic: string, partition: number, stored: number | undefined): CommittedOffset {
    const offset = stored === undefined ? -1 : stored + 1;
    return { topic, partition, offset, metadata: this.metadata.get(key(groupId, topic, partition)) ?? '', error: 'NONE' };
  }
}

function key(groupId: string, topic: string, partition: number): string {
  return `${groupId}\u0000${topic}\u0000${partition}`;
}
