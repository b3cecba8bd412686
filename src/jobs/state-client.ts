import type { Agent } from 'node:http';
import type { ResolvedConnection } from './connection.js';
import { httpCall, keepAliveAgent } from './http-call.js';

/** A record as the management API returns it (broker/records.ts). */
export interface RecordJson<T = unknown> {
  key: string;
  tag: string;
  value: T;
  updated_at: number;
}

/** A message the broker publishes when the put it rides on was written (records route, `publish`). */
export interface PublishSpec {
  exchange: string;
  routing_key: string;
  payload: string;
  properties?: Record<string, unknown>;
}

/** `table`: another table of the same vhost (one batch may write to several: a flow). */
export type RecordOp = { table?: string } & (
  | { op: 'put'; key: string; tag: string; value?: unknown; ifAbsent?: boolean; ifTagIn?: string[]; merge?: boolean; transient?: boolean; publish?: PublishSpec }
  | { op: 'delete'; key: string; ifTagIn?: string[] }
  | { op: 'get'; key: string }
  | { op: 'trim'; tag: string; keep?: number; maxAgeMs?: number; limit?: number }
);

export interface OpResult<T = unknown> {
  ok: boolean;
  /** For a put with `publish`: whether the message reached a queue (or a delayed exchange's store). */
  routed?: boolean;
  current?: RecordJson<T>;
  removed?: string[];
}

interface Pending {
  op: RecordOp;
  resolve: (result: OpResult) => void;
  reject: (error: Error) => void;
}

/** Most operations of a tick in one POST (a bigger tick goes out as several POSTs at once). */
const MAX_BATCH = 2000;
/** The records route's limit per POST (http/routes/records.ts MAX_OPS) and page size. */
const MAX_ATOMIC_OPS = 10_000;
const PAGE = 10_000;
const RETRIES = 50;
const REQUEST_TIMEOUT_MS = 10_000;

/**
 * The job library's view of one record table over the management API. Operations issued in the same
 * tick go out as one POST (one durable group commit for the whole batch), so a worker with concurrency
 * 50 does not pay 50 round trips. A failed request (broker restarting) is retried with backoff: the
 * operations are conditional puts and deletes, safe to run twice.
 *
 * `run(op, { durable: false })` goes in a separate batch that the broker answers without waiting for
 * the disk: for writes a crash may lose harmlessly (a job marked active: its message comes back).
 */
export class StateClient {
  private queued: Pending[] = [];
  private queuedFast: Pending[] = [];
  private scheduled = false;
  private closed = false;
  private readonly agent: Agent;
  private inFlight = 0;

  constructor(
    private readonly target: ResolvedConnection,
    readonly table: string,
  ) {
    this.agent = keepAliveAgent(target.managementUrl);
  }

  private get base(): string {
    return `${this.target.managementUrl}/api/records/${encodeURIComponent(this.target.vhost)}/${encodeURIComponent(this.table)}`;
  }

  run<T = unknown>(op: RecordOp, options: { durable?: boolean } = {}): Promise<OpResult<T>> {
    return new Promise<OpResult<T>>((resolve, reject) => {
      (options.durable === false ? this.queuedFast : this.queued).push({ op, resolve: resolve as (r: OpResult) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  async get<T>(key: string): Promise<RecordJson<T> | undefined> {
    return (await this.run<T>({ op: 'get', key })).current;
  }

  list<T>(tag: string | undefined, offset: number, limit: number, ascending: boolean): Promise<{ counts: Record<string, number>; items: RecordJson<T>[] }> {
    return this.listIn(this.table, tag, offset, limit, ascending);
  }

  /** The same for another table of the vhost. */
  async listIn<T>(table: string, tag: string | undefined, offset: number, limit: number, ascending: boolean): Promise<{ counts: Record<string, number>; items: RecordJson<T>[] }> {
    const query = new URLSearchParams({ offset: String(offset), limit: String(limit), order: ascending ? 'asc' : 'desc' });
    if (tag !== undefined) query.set('tag', tag);
    return (await this.request('GET', `${this.tableUrl(table)}?${query}`)) as { counts: Record<string, number>; items: RecordJson<T>[] };
  }

  /** Every record of a table (of a tag), oldest update first, paged through. */
  async listAllIn<T>(table: string, tag?: string): Promise<RecordJson<T>[]> {
    const all: RecordJson<T>[] = [];
    for (;;) {
      const { items } = await this.listIn<T>(table, tag, all.length, PAGE, true);
      all.push(...items);
      if (items.length < PAGE) return all;
    }
  }

  /**
   * Operations that must be applied together: one POST of their own (not mixed into a tick's batch nor
   * split across POSTs), so the broker runs them in one turn and one group commit covers them all.
   */
  async batch<T = unknown>(ops: RecordOp[]): Promise<OpResult<T>[]> {
    if (ops.length > MAX_ATOMIC_OPS) throw new Error(`at most ${MAX_ATOMIC_OPS} record operations can be applied together`);
    const body = (await this.request('POST', this.base, { ops })) as { results: OpResult<T>[] };
    return body.results;
  }

  async drop(table = this.table): Promise<void> {
    await this.request('DELETE', this.tableUrl(table));
  }

  private tableUrl(table: string): string {
    return `${this.target.managementUrl}/api/records/${encodeURIComponent(this.target.vhost)}/${encodeURIComponent(table)}`;
  }

  /** No new retries; the agent's idle connections close once the requests in flight are answered. */
  close(): void {
    this.closed = true;
    if (this.inFlight === 0) this.agent.destroy();
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queuedFast.length > 0) void this.send(this.queuedFast.splice(0, MAX_BATCH), false);
    while (this.queued.length > 0) void this.send(this.queued.splice(0, MAX_BATCH), true);
  }

  private async send(batch: Pending[], durable: boolean): Promise<void> {
    // Equal trims of one batch (every finished job of a tick asks for the same retention) run once, at
    // the place of the last of them (after the puts they follow); each asker gets that one's result.
    const lastTrim = new Map<string, number>();
    const trimIds = batch.map((pending, i) => {
      if (pending.op.op !== 'trim') return undefined;
      const id = JSON.stringify(pending.op);
      lastTrim.set(id, i);
      return id;
    });
    const kept: RecordOp[] = [];
    const resultAt = new Map<number, number>();
    batch.forEach((pending, i) => {
      const id = trimIds[i];
      if (id === undefined || lastTrim.get(id) === i) resultAt.set(i, kept.push(pending.op) - 1);
    });
    try {
      const body = (await this.request('POST', this.base, { ops: kept, ...(durable ? {} : { durable: false }) })) as { results: OpResult[] };
      batch.forEach((pending, i) => {
        const id = trimIds[i];
        const index = resultAt.get(id === undefined ? i : lastTrim.get(id)!)!;
        pending.resolve(body.results[index] ?? { ok: false });
      });
    } catch (error) {
      for (const pending of batch) pending.reject(error as Error);
    }
  }

  private async request(method: string, url: string, body?: unknown): Promise<unknown> {
    this.inFlight++;
    try {
      return await this.requestWithRetries(method, new URL(url), body === undefined ? undefined : Buffer.from(JSON.stringify(body)));
    } finally {
      if (--this.inFlight === 0 && this.closed) this.agent.destroy();
    }
  }

  private async requestWithRetries(method: string, url: URL, body: Buffer | undefined): Promise<unknown> {
    const headers: Record<string, string> = { authorization: this.target.authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
    let delay = 50;
    for (let attempt = 0; ; attempt++) {
      let response: { status: number; text: string };
      try {
        response = await httpCall(this.agent, url, method, headers, body, REQUEST_TIMEOUT_MS);
      } catch (error) {
        // The broker is down or restarting: wait for it (unless closed or out of patience).
        if (this.closed || attempt >= RETRIES) throw error;
        await new Promise((resolve) => setTimeout(resolve, delay));
        delay = Math.min(delay * 2, 1_000);
        continue;
      }
      if (response.status === 204) return undefined;
      if (response.status >= 500 && attempt < RETRIES && !this.closed) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        continue;
      }
      if (response.status < 200 || response.status > 299) throw new Error(`job state ${method} ${this.table}: HTTP ${response.status} ${response.text}`);
      return JSON.parse(response.text) as unknown;
    }
  }
}
