import { StoreError, UnknownHandleError } from './errors.js';
import type {
  DefinitionKind,
  DurableCallback,
  MessageHandle,
  MessageStream,
  RecoveredState,
  RecoveredStream,
  Store,
  StoredMessage,
  StreamLog,
} from './store.js';
import { MemoryStreamLogs, type MemoryLogData } from './stream-log/memory-storage.js';

interface HeldMessage {
  readonly header: Buffer;
  readonly body: Buffer;
  /** Streams still holding it, with whether each delivered it. */
  readonly holders: Map<number, boolean>;
}

/**
 * What a MemoryStore keeps between close and the next open when it is given one: a stand-in for a disk,
 * so that restart behaviour can be tested without files. Nothing else should touch it.
 */
export class MemoryImage {
  readonly messages = new Map<MessageHandle, HeldMessage>();
  readonly streamIds = new Map<string, number>();
  readonly definitions = new Map<string, { kind: DefinitionKind; key: string; value: unknown }>();
  nextHandle = 1;
  nextStreamId = 1;
  /** Stream logs by name (src/store/stream-log/memory-storage.ts). */
  readonly streamLogs = new Map<string, MemoryLogData>();
}

export interface MemoryStoreOptions {
  /** Keep everything in this image across close/open (the store is then `persistent`). Default: none. */
  image?: MemoryImage;
  /** Delay before a read is answered, per read call (ms); tests use random delays. Default: next tick. */
  readDelayMs?: () => number;
}

/**
 * The store in memory: the same contract as LogStore. Without an image (the default store of a broker
 * that keeps nothing) messages are not even kept, as no queue writes to a non-persistent store; with one
 * it behaves as a store whose disk is that image.
 */
export class MemoryStore implements Store {
  readonly persistent: boolean;
  private readonly image: MemoryImage;
  private readonly streams = new Map<string, MemoryStream>();
  private readonly readDelayMs: () => number;
  private lastAppended: { handle: MessageHandle; holders: Set<number> } | undefined;
  private isOpen = false;
  private readonly logs: MemoryStreamLogs;

  constructor(options: MemoryStoreOptions = {}) {
    this.persistent = options.image !== undefined;
    this.image = options.image ?? new MemoryImage();
    this.readDelayMs = options.readDelayMs ?? (() => 0);
    this.logs = new MemoryStreamLogs(this.image.streamLogs);
  }

  async open(): Promise<RecoveredState> {
    if (this.isOpen) throw new StoreError('store already opened');
    this.isOpen = true;
    return { definitions: [...this.image.definitions.values()], streams: this.recoveredStreams(), problems: [] };
  }

  async close(): Promise<void> {
    this.isOpen = false;
    this.streams.clear();
    this.logs.clear();
    this.lastAppended = undefined;
    if (!this.persistent) {
      this.image.streamLogs.clear();
      this.image.messages.clear();
      this.image.definitions.clear();
      this.image.streamIds.clear();
    }
  }

  putDefinition(kind: DefinitionKind, key: string, value: unknown): void {
    this.assertOpen();
    this.image.definitions.set(`${kind}\u0000${key}`, { kind, key, value });
  }

  deleteDefinition(kind: DefinitionKind, key: string): void {
    this.assertOpen();
    this.image.definitions.delete(`${kind}\u0000${key}`);
  }

  streamLog(name: string): StreamLog {
    this.assertOpen();
    return this.logs.get(name);
  }

  streamLogNames(): string[] {
    return this.logs.names();
  }

  stream(name: string): MessageStream {
    this.assertOpen();
    let stream = this.streams.get(name);
    if (stream === undefined) {
      let id = this.image.streamIds.get(name);
      if (id === undefined) this.image.streamIds.set(name, (id = this.image.nextStreamId++));
      stream = new MemoryStream(this, name, id);
      this.streams.set(name, stream);
    }
    return stream;
  }

  whenDurable(callback: DurableCallback): void {
    this.logs.flushAll();
    setImmediate(callback);
  }

  // ---- for MemoryStream ------------------------------------------------------------------------

  /** @internal */
  appendMessage(streamId: number, header: Buffer, body: Buffer): MessageHandle {
    this.assertOpen();
    const handle = this.image.nextHandle++;
    this.image.messages.set(handle, { header, body, holders: new Map([[streamId, false]]) });
    this.lastAppended = { handle, holders: new Set([streamId]) };
    return handle;
  }

  /** @internal */
  shareMessage(streamId: number, handle: MessageHandle): boolean {
    this.assertOpen();
    const last = this.lastAppended;
    const held = this.image.messages.get(handle);
    if (last?.handle !== handle || held === undefined || last.holders.has(streamId)) return false;
    last.holders.add(streamId);
    held.holders.set(streamId, false);
    return true;
  }

  /** @internal */
  release(streamId: number, handle: MessageHandle): void {
    const held = this.image.messages.get(handle);
    if (held === undefined || !held.holders.delete(streamId)) return;
    if (held.holders.size === 0) this.image.messages.delete(handle);
  }

  /** @internal */
  delivered(streamId: number, handle: MessageHandle): void {
    const held = this.image.messages.get(handle);
    if (held?.holders.has(streamId) === true) held.holders.set(streamId, true);
  }

  /** @internal */
  read(handles: readonly MessageHandle[]): Promise<StoredMessage[]> {
    const copies = handles.map((handle) => {
      const held = this.image.messages.get(handle);
      return held === undefined ? handle : { header: Buffer.from(held.header), body: Buffer.from(held.body) };
    });
    return new Promise((resolve, reject) => {
      setTimeout(() => {
        const missing = copies.find((copy): copy is number => typeof copy === 'number');
        if (missing !== undefined) reject(new UnknownHandleError(missing));
        else resolve(copies as StoredMessage[]);
      }, this.readDelayMs());
    });
  }

  /** @internal */
  dropStream(stream: MemoryStream): void {
    this.assertOpen();
    for (const [handle, held] of this.image.messages) {
      if (held.holders.delete(stream.id) && held.holders.size === 0) this.image.messages.delete(handle);
    }
    this.streams.delete(stream.name);
    this.image.streamIds.delete(stream.name);
  }

  /** Live messages held by some stream (tests). */
  get liveMessages(): number {
    return this.image.messages.size;
  }

  private recoveredStreams(): RecoveredStream[] {
    const byStream = new Map<number, { handles: number[]; delivered: number[] }>();
    for (const [handle, held] of this.image.messages) {
      for (const [streamId, delivered] of held.holders) {
        let list = byStream.get(streamId);
        if (list === undefined) byStream.set(streamId, (list = { handles: [], delivered: [] }));
        list.handles.push(handle);
        list.delivered.push(delivered ? 1 : 0);
      }
    }
    const recovered: RecoveredStream[] = [];
    for (const [name, id] of this.image.streamIds) {
      const list = byStream.get(id) ?? { handles: [], delivered: [] };
      recovered.push({ stream: this.stream(name), handles: Float64Array.from(list.handles), delivered: Uint8Array.from(list.delivered) });
    }
    return recovered;
  }

  private assertOpen(): void {
    if (!this.isOpen) throw new StoreError('store is not open');
  }
}

/** One stream of a MemoryStore. */
class MemoryStream implements MessageStream {
  private dropped = false;

  constructor(
    private readonly store: MemoryStore,
    readonly name: string,
    readonly id: number,
  ) {}

  append(header: Buffer, body: Buffer): MessageHandle {
    this.assertLive();
    return this.store.appendMessage(this.id, header, body);
  }

  share(handle: MessageHandle): boolean {
    this.assertLive();
    return this.store.shareMessage(this.id, handle);
  }

  remove(handle: MessageHandle): void {
    if (!this.dropped) this.store.release(this.id, handle);
  }

  markDelivered(handle: MessageHandle): void {
    if (!this.dropped) this.store.delivered(this.id, handle);
  }

  read(handles: readonly MessageHandle[]): Promise<StoredMessage[]> {
    return this.store.read(handles);
  }

  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.store.dropStream(this);
  }

  private assertLive(): void {
    if (this.dropped) throw new StoreError(`stream ${this.name} was dropped`);
  }
}
