/**
 * One Kafka client connection: framing (int32 size prefix, at most `maxRequestBytes`), the request
 * header, dispatch through the door's API table, and responses written in request order even when
 * handlers finish out of order (Kafka's rule: a connection's responses come back in the order of its
 * requests; clients match them by correlation id but some, librdkafka among them, insist on order).
 *
 * Every request starts being handled as soon as it is read (a Produce appends at once; only its
 * answer waits for the durability barrier), so a pipelining producer is never held by fsync latency.
 * Malformed input closes this connection only: the header cannot be trusted (too short, an API
 * key or version Warren does not serve, a body that does not parse), as a Kafka broker does.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { isLoopbackAddress } from '../auth/loopback.js';
import type { Broker } from '../broker/broker.js';
import type { ChannelInfo, ConnectionInfo, ConnectionView } from '../session/views.js';
import { isFlexible, type HandlerResult, type KafkaApi, type KafkaRequest } from './api.js';
import type { KafkaDoor } from './door.js';
import { writeApiVersions } from './handlers/api-versions.js';
import { ApiKey } from './protocol/api-keys.js';
import { ErrorCode } from './protocol/error-codes.js';
import { finishResponse, readRequestHeader, readRequestStart, startResponse } from './protocol/header.js';
import { KafkaDecodeError } from './protocol/reader.js';
import type { KafkaSession } from './session.js';

/** Requests read but not yet answered, past which the socket stops being read until they drain. */
const MAX_PENDING = 1024;
/** Unsent response bytes past which the socket stops being read (a consumer not reading its Fetches). */
const MAX_UNSENT_BYTES = 16 * 1024 * 1024;

interface Slot {
  /** undefined: still being handled; null: no response (acks=0); else the response's chunks. */
  chunks: Buffer[] | null | undefined;
}

export class KafkaConnection implements ConnectionView, KafkaSession {
  readonly name: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly logger: Logger;
  readonly connectedAt = Date.now();
  readonly slots = new Map<string, unknown>();
  user: string | undefined;
  vhost: string;
  clientId: string | null = null;
  authMechanism = 'none';
  rawFrameHandler: KafkaSession['rawFrameHandler'];
  private bytesIn = 0;
  private bytesOut = 0;
  private readonly pending: Slot[] = [];
  private readonly closeCallbacks = new Set<() => void>();
  private isClosed = false;
  private paused = false;
  /** Up to 3 bytes of a size prefix split across chunks. */
  private head: Buffer | undefined;
  /** A frame larger than the chunk it started in, filled by later chunks. */
  private assembling: Buffer | undefined;
  private filled = 0;

  constructor(
    readonly door: KafkaDoor,
    private readonly socket: Socket,
    logger: Logger,
    private readonly tls: boolean,
    private readonly onClosed: (connection: KafkaConnection) => void,
  ) {
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.remotePort = socket.remotePort ?? 0;
    this.localAddress = socket.localAddress ?? '127.0.0.1';
    this.localPort = socket.localPort ?? 0;
    this.name = `${this.remoteAddress}:${this.remotePort} -> ${this.localAddress}:${this.localPort}`;
    this.logger = logger.child({ connection: this.name });
    this.vhost = door.settings.vhost;
    // A client that never authenticates is guest, from loopback only (README "Kafka").
    this.user = !door.settings.requireSasl && isLoopbackAddress(this.remoteAddress) ? 'guest' : undefined;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', (err) => this.logger.debug({ err }, 'Kafka socket error'));
    socket.on('close', () => this.finish());
  }

  get broker(): Broker {
    return this.door.broker;
  }

  get closed(): boolean {
    return this.isClosed;
  }

  onClose(callback: () => void): () => void {
    if (this.isClosed) {
      callback();
      return () => undefined;
    }
    const once = (): void => callback();
    this.closeCallbacks.add(once);
    return () => void this.closeCallbacks.delete(once);
  }

  close(reason: string): void {
    if (this.isClosed) return;
    this.logger.info({ reason }, 'closing Kafka connection');
    this.finish();
    this.socket.destroy();
  }

  private finish(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.pending.length = 0;
    const callbacks = [...this.closeCallbacks];
    this.closeCallbacks.clear();
    for (const callback of callbacks) {
      try {
        callback();
      } catch (err) {
        this.logger.error({ err }, 'Kafka connection close callback failed');
      }
    }
    this.onClosed(this);
  }

  // ---- framing ----

  private onData(chunk: Buffer): void {
    this.bytesIn += chunk.length;
    let data = chunk;
    let at = 0;
    while (at < data.length && !this.isClosed) {
      if (this.assembling !== undefined) {
        const take = Math.min(this.assembling.length - this.filled, data.length - at);
        data.copy(this.assembling, this.filled, at, at + take);
        this.filled += take;
        at += take;
        if (this.filled === this.assembling.length) {
          const frame = this.assembling;
          this.assembling = undefined;
          this.onFrame(frame);
        }
        continue;
      }
      if (this.head !== undefined) {
        data = Buffer.concat([this.head, data.subarray(at)]);
        at = 0;
        this.head = undefined;
      }
      if (data.length - at < 4) {
        this.head = Buffer.from(data.subarray(at));
        break;
      }
      const size = data.readInt32BE(at);
      if (size < 0 || size > this.door.settings.maxRequestBytes) {
        this.close(`request size ${size} outside 0..${this.door.settings.maxRequestBytes}`);
        return;
      }
      at += 4;
      if (data.length - at >= size) {
        this.onFrame(data.subarray(at, at + size));
        at += size;
      } else {
        this.assembling = Buffer.allocUnsafe(size);
        this.filled = 0;
      }
    }
  }

  // ---- requests ----

  private onFrame(frame: Buffer): void {
    if (this.rawFrameHandler !== undefined) return this.track(this.rawFrameHandler(frame), (out) => (out === undefined ? null : [sizePrefix(out.length), out]));
    const start = readRequestStart(frame);
    if (start === undefined) return this.close(`request of ${frame.length} bytes has no header`);
    const api = this.door.apis.get(start.apiKey);
    if (start.apiKey === ApiKey.ApiVersions && api !== undefined && (start.apiVersion > api.maxVersion || start.apiVersion < api.minVersion)) {
      return this.respondNow(this.unsupportedApiVersions(start.correlationId));
    }
    if (api === undefined) return this.close(`unknown API key ${start.apiKey}`);
    if (start.apiVersion < api.minVersion || start.apiVersion > api.maxVersion) {
      return this.close(`${api.name} v${start.apiVersion} is not served (v${api.minVersion}-v${api.maxVersion})`);
    }
    const flexible = isFlexible(api, start.apiVersion);
    let request: KafkaRequest;
    try {
      const { header, body } = readRequestHeader(frame, flexible);
      request = { header, flexible, body };
    } catch (error) {
      return this.close(`malformed ${api.name} request header: ${(error as Error).message}`);
    }
    this.clientId = request.header.clientId;
    for (const gate of this.door.gates) {
      const refusal = gate(this, request.header, api);
      if (refusal !== undefined) return this.close(refusal);
    }
    let result: HandlerResult | Promise<HandlerResult>;
    try {
      result = api.handle(this, request);
    } catch (error) {
      return this.handlerFailed(api, error);
    }
    // ApiVersions answers with response header v0 in every version (KIP-511).
    const flexibleHeader = flexible && api.key !== ApiKey.ApiVersions;
    this.track(result, (body) => {
      if (body === undefined) return null;
      const writer = startResponse(request.header.correlationId, flexible, flexibleHeader);
      body(writer);
      return finishResponse(writer);
    }, api);
  }

  /** Keeps the request's place in the response order; `encode` turns its result into chunks. */
  private track<T>(result: T | Promise<T>, encode: (value: T) => Buffer[] | null, api?: KafkaApi): void {
    const slot: Slot = { chunks: undefined };
    this.pending.push(slot);
    const settle = (value: T): void => {
      try {
        slot.chunks = encode(value);
      } catch (error) {
        return this.handlerFailed(api, error);
      }
      this.flush();
    };
    if (result instanceof Promise) {
      result.then(settle, (error: unknown) => this.handlerFailed(api, error));
    } else {
      settle(result);
    }
    if (this.pending.length > MAX_PENDING) this.pause();
  }

  private handlerFailed(api: KafkaApi | undefined, error: unknown): void {
    if (this.isClosed) return;
    if (error instanceof KafkaDecodeError) return this.close(`malformed ${api?.name ?? 'raw'} request: ${error.message}`);
    this.logger.error({ err: error, api: api?.name }, 'Kafka request handler failed');
    this.close(`${api?.name ?? 'raw frame'} handler failed`);
  }

  private respondNow(chunks: Buffer[]): void {
    this.pending.push({ chunks });
    this.flush();
  }

  /** ApiVersions in a version Warren does not know: the v0 format, UNSUPPORTED_VERSION and every range (KIP-511). */
  private unsupportedApiVersions(correlationId: number): Buffer[] {
    const writer = startResponse(correlationId, false, false);
    writeApiVersions(writer, 0, ErrorCode.UNSUPPORTED_VERSION, [...this.door.apis.values()].sort((a, b) => a.key - b.key));
    return finishResponse(writer);
  }

  // ---- responses, in request order ----

  private flush(): void {
    if (this.isClosed) return;
    let wrote = false;
    while (this.pending.length > 0 && this.pending[0]!.chunks !== undefined) {
      const chunks = this.pending.shift()!.chunks;
      if (chunks === null || chunks === undefined) continue;
      if (!wrote) this.socket.cork();
      wrote = true;
      for (const chunk of chunks) {
        this.bytesOut += chunk.length;
        this.socket.write(chunk);
      }
    }
    if (wrote) this.socket.uncork();
    if (this.socket.writableLength > MAX_UNSENT_BYTES) this.pause();
    else this.maybeResume();
  }

  private pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.socket.pause();
  }

  private maybeResume(): void {
    if (!this.paused || this.isClosed) return;
    if (this.pending.length > MAX_PENDING / 2 || this.socket.writableLength > MAX_UNSENT_BYTES) return;
    this.paused = false;
    this.socket.resume();
  }

  // ---- ConnectionView ----

  info(): ConnectionInfo {
    return {
      name: this.name,
      protocol: 'Kafka',
      peerHost: this.remoteAddress,
      peerPort: this.remotePort,
      user: this.user,
      vhost: this.vhost,
      state: this.isClosed ? 'closed' : this.paused ? 'flow' : 'running',
      channels: 0,
      clientProperties: this.clientId === null ? {} : { client_id: this.clientId },
      connectedAt: this.connectedAt,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      frameMax: this.door.settings.maxRequestBytes,
      channelMax: 0,
      heartbeat: 0,
      tls: this.tls,
      authMechanism: this.authMechanism,
    };
  }

  channels(): ChannelInfo[] {
    return [];
  }

  forceClose(reason: string): Promise<void> {
    this.close(reason);
    return Promise.resolve();
  }
}

function sizePrefix(size: number): Buffer {
  const prefix = Buffer.allocUnsafe(4);
  prefix.writeInt32BE(size, 0);
  return prefix;
}
