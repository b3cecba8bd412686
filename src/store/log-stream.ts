import { StoreError } from './errors.js';
import type { MessageHandle, MessageStream, StoredMessage } from './store.js';

/** What a LogStream asks of its LogStore (every operation names the stream by its id). */
export interface LogStreamHost {
  append(streamId: number, header: Buffer, body: Buffer): MessageHandle;
  share(streamId: number, handle: MessageHandle): boolean;
  remove(streamId: number, handle: MessageHandle): void;
  markDelivered(streamId: number, handle: MessageHandle): void;
  readNow(handle: MessageHandle): StoredMessage;
  drop(stream: LogStream): void;
}

/** One queue's message stream in the shared log: the log's records carry its id. */
export class LogStream implements MessageStream {
  private dropped = false;

  constructor(
    private readonly store: LogStreamHost,
    readonly name: string,
    readonly id: number,
  ) {}

  append(header: Buffer, body: Buffer): MessageHandle {
    this.assertLive();
    return this.store.append(this.id, header, body);
  }

  share(handle: MessageHandle): boolean {
    this.assertLive();
    return this.store.share(this.id, handle);
  }

  remove(handle: MessageHandle): void {
    if (!this.dropped) this.store.remove(this.id, handle);
  }

  markDelivered(handle: MessageHandle): void {
    if (!this.dropped) this.store.markDelivered(this.id, handle);
  }

  /** Local preads are quick, so they run now; the answer still comes as a promise, as from any store. */
  read(handles: readonly MessageHandle[]): Promise<StoredMessage[]> {
    try {
      return Promise.resolve(handles.map((handle) => this.store.readNow(handle)));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  drop(): void {
    if (this.dropped) return;
    this.dropped = true;
    this.store.drop(this);
  }

  private assertLive(): void {
    if (this.dropped) throw new StoreError(`stream ${this.name} was dropped`);
  }
}
