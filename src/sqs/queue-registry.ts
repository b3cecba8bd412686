import { readFile, rename } from 'node:fs/promises';
import { preconditionFailed } from '../broker/errors.js';
import type { RuntimeParameters } from '../broker/parameters/runtime-parameters.js';
import { validateAttributes, type QueueAttributes } from './queue-attributes.js';

/** What SQS knows of a queue beyond the core's: its settable attributes, tags, times. */
export interface SqsQueueRecord {
  attributes: QueueAttributes;
  tags: Record<string, string>;
  /** Seconds since the epoch, as SQS shows them. */
  created: number;
  modified: number;
}

/** The runtime parameter component the records live under: one parameter per queue, named as the queue. */
export const SQS_QUEUE_COMPONENT = 'sqs-queue';

/** The file earlier versions kept the records in (`<dataDir>/sqs/queues.json`). */
interface LegacyFile {
  version: 1;
  queues: Array<{ vhost: string; name: string } & SqsQueueRecord>;
}

/**
 * SQS attributes and tags per queue, kept as Warren definitions: a runtime parameter of the component
 * `sqs-queue` in the queue's vhost (RabbitMQ's parameter model). So they are durable through the
 * broker's definition journal with the queue itself, shared by a cluster's nodes, and carried by a
 * definitions export and import. The core keeps what it enforces itself (retention, redrive) as the
 * queue's `sqs:<name>` policy; the door's own settings (visibility, delay, wait, size, tags) live here.
 * A local mirror answers the per-request lookups without building the parameter key each time; it
 * follows every change (an import, a cluster peer) through the parameters' change events.
 */
export class QueueRegistry {
  /** vhost -> queue name -> record: two lookups, no key string built per request. */
  private readonly mirror = new Map<string, Map<string, SqsQueueRecord>>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly parameters: RuntimeParameters,
    /** queues.json of an older version: migrated into parameters on load, then renamed `.migrated`. */
    private readonly legacyFile: string | undefined,
  ) {
    if (!parameters.hasComponent(SQS_QUEUE_COMPONENT)) parameters.registerComponent({ name: SQS_QUEUE_COMPONENT, validate: validateRecord });
    for (const p of parameters.list({ component: SQS_QUEUE_COMPONENT })) this.mirrorSet(p.vhost, p.name, p.value as SqsQueueRecord);
    this.unsubscribe = parameters.onChange((change) => {
      if (change.kind !== 'set' && change.kind !== 'deleted') return;
      const p = change.parameter;
      if (p.component !== SQS_QUEUE_COMPONENT) return;
      if (change.kind === 'set') this.mirrorSet(p.vhost, p.name, p.value as SqsQueueRecord);
      else this.mirrorDelete(p.vhost, p.name);
    });
  }

  private mirrorSet(vhost: string, name: string, record: SqsQueueRecord): void {
    let queues = this.mirror.get(vhost);
    if (queues === undefined) this.mirror.set(vhost, (queues = new Map()));
    queues.set(name, record);
  }

  private mirrorDelete(vhost: string, name: string): void {
    const queues = this.mirror.get(vhost);
    if (queues === undefined) return;
    queues.delete(name);
    if (queues.size === 0) this.mirror.delete(vhost);
  }

  /** Moves the records of an older version's queues.json into parameters (those not there already). */
  async load(): Promise<void> {
    const file = this.legacyFile;
    if (file === undefined) return;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw error;
    }
    const parsed = JSON.parse(text) as LegacyFile;
    for (const { vhost, name, ...record } of parsed.queues) {
      if (this.get(vhost, name) === undefined) this.parameters.restore({ component: SQS_QUEUE_COMPONENT, vhost, name, value: record });
    }
    await rename(file, `${file}.migrated`);
  }

  get(vhost: string, name: string): SqsQueueRecord | undefined {
    return this.mirror.get(vhost)?.get(name);
  }

  put(vhost: string, name: string, record: SqsQueueRecord): void {
    this.parameters.set(SQS_QUEUE_COMPONENT, vhost, name, record);
  }

  delete(vhost: string, name: string): void {
    this.parameters.delete(SQS_QUEUE_COMPONENT, vhost, name);
  }

  close(): void {
    this.unsubscribe();
  }
}

/** A record set through the parameters API or an import must be what the door itself would store. */
function validateRecord(_vhost: string, name: string, value: unknown): void {
  const invalid = (detail: string): Error => preconditionFailed(`Validation failed for sqs-queue '${name}': ${detail}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('the value must be an object');
  const v = value as Record<string, unknown>;
  for (const field of ['created', 'modified']) if (!Number.isSafeInteger(v[field])) throw invalid(`'${field}' must be an integer (seconds since the epoch)`);
  const tags = v['tags'];
  if (tags === null || typeof tags !== 'object' || Array.isArray(tags) || Object.values(tags).some((t) => typeof t !== 'string')) throw invalid("'tags' must be an object of strings");
  const attributes = v['attributes'];
  if (attributes === null || typeof attributes !== 'object' || Array.isArray(attributes)) throw invalid("'attributes' must be an object");
  try {
    validateAttributes(attributes, name.endsWith('.fifo'), false);
  } catch (error) {
    throw invalid((error as Error).message);
  }
}
