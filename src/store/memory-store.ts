import { StoreError, UnknownHandleError } from './errors.js';
import type { DefinitionKind, DurableCallback, MessageHandle, RecoveredState, Store, StoreStats, StoredMessage } from './store.js';

interface Held {
  header: Buffer;
  body: Buffer;
  /** queue ids still holding it */
  queues: number[];
}

/** The default store: same contract as LogStore, nothing survives close. */
export class MemoryStore implements Store {
  readonly persistent = false;
  private readonly messages = new Map<number, Held>();
  private readonly queueIds = new Map<string, number>();
  private readonly definitions = new Map<string, unknown>();
  private nextHandle = 1;
  private nextQueueId = 1;
  private last: { body: Buffer; header: Buffer; handle: number } | undefined;
  private open_ = false;

  async open(): Promise<RecoveredState> {
    this.open_ = true;
    return { definitions: [], queues: [], problems: [] };
  }

  async close(): Promise<void> {
    this.open_ = false;
    this.messages.clear();
    this.definitions.clear();
    this.queueIds.clear();
  }

  putDefinition(kind: DefinitionKind, key: string, value: unknown): void {
    this.assertOpen();
    this.definitions.set(`${kind}\u0000${key}`, value);
  }

  deleteDefinition(kind: DefinitionKind, key: string): void {
    this.assertOpen();
    this.definitions.delete(`${kind}\u0000${key}`);
  }

  queueId(name: string): number {
    this.assertOpen();
    let id = this.queueIds.get(name);
    if (id === undefined) this.queueIds.set(name, (id = this.nextQueueId++));
    return id;
  }

  dropQueue(queueId: number, handles: Iterable<MessageHandle>): void {
    for (const handle of handles) this.remove(queueId, handle);
    for (const [name, id] of this.queueIds) if (id === queueId) this.queueIds.delete(name);
  }

  append(queueId: number, header: Buffer, body: Buffer): MessageHandle {
    this.assertOpen();
    const last = this.last;
    if (last && last.body === body && last.header.equals(header)) {
      const held = this.messages.get(last.handle);
      if (held && !held.queues.includes(queueId)) {
        held.queues.push(queueId);
        return last.handle;
      }
    }
    const handle = this.nextHandle++;
    this.messages.set(handle, { header, body, queues: [queueId] });
    this.last = { body, header, handle };
    return handle;
  }

  remove(queueId: number, handle: MessageHandle): void {
    const held = this.messages.get(handle);
    if (!held) return;
    const at = held.queues.indexOf(queueId);
    if (at >= 0) held.queues.splice(at, 1);
    if (held.queues.length === 0) this.messages.delete(handle);
  }

  markDelivered(): void {
    // Nothing survives a restart, so there is no redelivered flag to recover.
  }

  read(handle: MessageHandle): StoredMessage {
    const held = this.messages.get(handle);
    if (!held) throw new UnknownHandleError(handle);
    return { header: Buffer.from(held.header), body: Buffer.from(held.body) };
  }

  whenDurable(callback: DurableCallback): void {
    setImmediate(callback);
  }

  async freeBytes(): Promise<number> {
    return Number.MAX_SAFE_INTEGER;
  }

  stats(): StoreStats {
    return { segments: 0, diskBytes: 0, liveMessages: this.messages.size, syncs: 0, syncSeconds: 0, lastSyncSeconds: 0, compactions: 0, deletedSegments: 0 };
  }

  private assertOpen(): void {
    if (!this.open_) throw new StoreError('store is not open');
  }
}
