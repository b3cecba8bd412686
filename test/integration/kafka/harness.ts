/**
 * A whole WarrenServer with the Kafka door on an ephemeral port of 127.0.0.1 (plus AMQP and HTTP),
 * and a raw Kafka client for requests no library sends (bad versions, garbage).
 */
import { accessSync, constants } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { pino } from 'pino';
import { startWarren, type TestWarren } from '../../helpers/warren.js';
import type { KafkaConfig, WarrenConfig } from '../../../src/config/types.js';

export interface KafkaWarren extends TestWarren {
  kafkaPort: number;
  /** "127.0.0.1:<port>" */
  bootstrap: string;
}

export async function startKafkaWarren(options: { dataDir?: string; kafka?: Partial<KafkaConfig>; configure?: (config: WarrenConfig) => void } = {}): Promise<KafkaWarren> {
  const warren = await startWarren({
    ...(options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    // WARREN_TEST_LOG=debug shows the broker's log while a test runs.
    ...(process.env['WARREN_TEST_LOG'] === undefined ? {} : { logger: pino({ level: process.env['WARREN_TEST_LOG'] }) }),
    configure: (config) => {
      config.kafka = {
        host: '127.0.0.1',
        port: 0,
        vhost: '/',
        advertisedHost: undefined,
        advertisedPort: undefined,
        autoCreateTopics: false,
        requireSasl: false,
        maxRequestBytes: 100 * 1024 * 1024,
        defaultPartitions: 1,
        ...options.kafka,
      };
      options.configure?.(config);
    },
  });
  const address = warren.server.kafka?.address;
  if (address === undefined) throw new Error('the Kafka door did not start');
  return { ...warren, kafkaPort: address.port, bootstrap: `127.0.0.1:${address.port}` };
}

/** A socket that sends size-prefixed frames and collects size-prefixed responses. */
export class RawKafkaClient {
  private buffered = Buffer.alloc(0);
  private readonly waiters: Array<(frame: Buffer) => void> = [];
  private readonly frames: Buffer[] = [];
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.closedPromise = new Promise((resolve) => socket.on('close', () => {
      this.closed = true;
      resolve();
    }));
    socket.on('error', () => undefined);
  }

  static async connect(port: number): Promise<RawKafkaClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawKafkaClient(socket);
  }

  private onData(chunk: Buffer): void {
    this.buffered = Buffer.concat([this.buffered, chunk]);
    while (this.buffered.length >= 4) {
      const size = this.buffered.readInt32BE(0);
      if (this.buffered.length < 4 + size) break;
      const frame = this.buffered.subarray(4, 4 + size);
      this.buffered = this.buffered.subarray(4 + size);
      const waiter = this.waiters.shift();
      if (waiter) waiter(frame);
      else this.frames.push(frame);
    }
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  /** A request with header v1 (or v2 when `flexible`), size prefixed. */
  request(apiKey: number, version: number, correlationId: number, body: Buffer, flexible = false, clientId = 'raw'): void {
    const header = Buffer.alloc(10 + Buffer.byteLength(clientId));
    header.writeInt16BE(apiKey, 0);
    header.writeInt16BE(version, 2);
    header.writeInt32BE(correlationId, 4);
    header.writeInt16BE(Buffer.byteLength(clientId), 8);
    header.write(clientId, 10);
    const parts = flexible ? [header, Buffer.from([0]), body] : [header, body];
    const size = Buffer.alloc(4);
    size.writeInt32BE(parts.reduce((n, p) => n + p.length, 0));
    this.send(Buffer.concat([size, ...parts]));
  }

  /** The next response frame (without its size), or undefined if the connection closes first. */
  next(timeoutMs = 5000): Promise<Buffer | undefined> {
    const ready = this.frames.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      this.waiters.push((frame) => {
        clearTimeout(timer);
        resolve(frame);
      });
      void this.closedPromise.then(() => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Runs a program to its end (or kills it after `timeoutMs`); stdout, stderr and the exit code. */
export async function run(program: string, args: readonly string[], options: { input?: string; timeoutMs?: number } = {}): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const { spawn } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 20_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Whether a program is on the PATH (tests that need it skip, saying so, when it is not). */
export function hasProgram(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
