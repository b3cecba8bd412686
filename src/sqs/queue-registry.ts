import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { QueueAttributes } from './queue-attributes.js';

/** What SQS knows of a queue beyond the core's: its settable attributes, tags, times. */
export interface SqsQueueRecord {
  attributes: QueueAttributes;
  tags: Record<string, string>;
  /** Seconds since the epoch, as SQS shows them. */
  created: number;
  modified: number;
}

interface RegistryFile {
  version: 1;
  queues: Array<{ vhost: string; name: string } & SqsQueueRecord>;
}

/**
 * SQS attributes and tags per queue, in `<dataDir>/sqs/queues.json` (rewritten whole on each change:
 * queue settings change rarely). The core keeps what it enforces itself (retention, redrive) as a
 * policy; the door's own settings (visibility, delay, wait, size, tags) live here. Without a file
 * (an in-memory broker) they last as long as the process.
 */
export class QueueRegistry {
  private readonly records = new Map<string, SqsQueueRecord>();
  private writing: Promise<void> = Promise.resolve();
  private dirty = false;

  constructor(private readonly file: string | undefined) {}

  async load(): Promise<void> {
    if (this.file === undefined) return;
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const parsed = JSON.parse(text) as RegistryFile;
    for (const { vhost, name, ...record } of parsed.queues) this.records.set(key(vhost, name), record);
  }

  get(vhost: string, name: string): SqsQueueRecord | undefined {
    return this.records.get(key(vhost, name));
  }

  put(vhost: string, name: string, record: SqsQueueRecord): void {
    this.records.set(key(vhost, name), record);
    this.save();
  }

  delete(vhost: string, name: string): void {
    if (this.records.delete(key(vhost, name))) this.save();
  }

  /** Resolves once every change so far is on disk. */
  flushed(): Promise<void> {
    return this.writing;
  }

  /** One write at a time; changes made meanwhile go out in the next (temp file + rename: never half a file). */
  private save(): void {
    const file = this.file;
    if (file === undefined) return;
    if (this.dirty) return;
    this.dirty = true;
    this.writing = this.writing.then(async () => {
      this.dirty = false;
      const queues = [...this.records].map(([k, record]) => {
        const [vhost, name] = JSON.parse(k) as [string, string];
        return { vhost, name, ...record };
      });
      await mkdir(dirname(file), { recursive: true });
      await writeFile(`${file}.tmp`, JSON.stringify({ version: 1, queues } satisfies RegistryFile));
      await rename(`${file}.tmp`, file);
    });
  }
}

function key(vhost: string, name: string): string {
  return JSON.stringify([vhost, name]);
}
