/**
 * DescribeConfigs (key 32), v0-v4 (v4 flexible). Topics (resource type 2) show the stream arguments
 * as Kafka configs: retention.ms <- x-max-age, retention.bytes <- x-max-length-bytes, segment.bytes
 * <- x-stream-max-segment-size-bytes (topics.ts), defaults marked as such. The broker (type 4) shows
 * the few settings a client may look for. Other resource types: INVALID_REQUEST.
 */
import type { KafkaApi, ResponseBody } from '../api.js';
import { refusal } from '../access.js';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { KafkaSession } from '../session.js';
import { topicConfigs } from '../topics.js';
import { MAX_BATCH_BYTES } from './produce.js';

const TOPIC = 2;
const BROKER = 4;
/** ConfigSource (KIP-226): 1 DYNAMIC_TOPIC_CONFIG, 5 DEFAULT_CONFIG, 4 STATIC_BROKER_CONFIG. */
const DYNAMIC_TOPIC = 1;
const STATIC_BROKER = 4;
const DEFAULT = 5;

interface Entry {
  readonly name: string;
  readonly value: string;
  readonly source: number;
}

interface Result {
  readonly error: number;
  readonly message: string | null;
  readonly type: number;
  readonly name: string;
  readonly entries: readonly Entry[];
}

export const describeConfigs: KafkaApi = {
  key: ApiKey.DescribeConfigs,
  name: 'DescribeConfigs',
  minVersion: 0,
  maxVersion: 4,
  flexibleFrom: 4,
  handle(session, request): ResponseBody {
    const version = request.header.apiVersion;
    const body = request.body;
    const resources = body.array((r) => {
      const type = r.int8();
      const name = r.string();
      const count = r.arrayLength();
      let keys: string[] | null = null;
      if (count >= 0) {
        keys = [];
        for (let i = 0; i < count; i++) keys.push(r.string());
      }
      r.taggedFields();
      return { type, name, keys };
    });
    if (version >= 1) body.boolean(); // include_synonyms: none are kept
    if (version >= 3) body.boolean(); // include_documentation
    body.taggedFields();
    const results = resources.map((resource) => describe(session, resource.type, resource.name, resource.keys));
    return (w) => {
      w.int32(0); // throttle_time_ms
      w.array(results, (rw, result) => {
        rw.int16(result.error).nullableString(result.message).int8(result.type).string(result.name);
        rw.array(result.entries, (cw, entry) => {
          cw.string(entry.name).nullableString(entry.value).boolean(false); // read_only
          if (version === 0) cw.boolean(entry.source === DEFAULT);
          else cw.int8(entry.source);
          cw.boolean(false); // is_sensitive
          if (version >= 1) cw.arrayLength(0); // synonyms
          if (version >= 3) cw.int8(0).nullableString(null); // config_type UNKNOWN, documentation
          cw.taggedFields();
        });
        rw.taggedFields();
      });
      w.taggedFields();
    };
  },
};

function describe(session: KafkaSession, type: number, name: string, keys: string[] | null): Result {
  const pick = (entries: Entry[]): Entry[] => (keys === null || keys.length === 0 ? entries : entries.filter((e) => keys.includes(e.name)));
  if (type === TOPIC) {
    const topic = session.door.topics.find(name);
    if (topic === undefined) return { error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message: `topic '${name}' does not exist`, type, name, entries: [] };
    const denied = refusal(session, 'read', topic.partitions[0]!.queue.name);
    if (denied !== undefined) return { error: ErrorCode.TOPIC_AUTHORIZATION_FAILED, message: denied, type, name, entries: [] };
    const entries = topicConfigs(topic.arguments).map((c) => ({ name: c.name, value: c.value, source: c.isDefault ? DEFAULT : DYNAMIC_TOPIC }));
    entries.push({ name: 'max.message.bytes', value: String(MAX_BATCH_BYTES), source: DEFAULT });
    return { error: ErrorCode.NONE, message: null, type, name, entries: pick(entries) };
  }
  if (type === BROKER) {
    const settings = session.door.settings;
    const entries: Entry[] = [
      { name: 'auto.create.topics.enable', value: String(settings.autoCreateTopics), source: STATIC_BROKER },
      { name: 'num.partitions', value: String(settings.defaultPartitions), source: STATIC_BROKER },
      { name: 'message.max.bytes', value: String(MAX_BATCH_BYTES), source: DEFAULT },
      { name: 'socket.request.max.bytes', value: String(settings.maxRequestBytes), source: STATIC_BROKER },
      { name: 'default.replication.factor', value: '1', source: DEFAULT },
    ];
    return { error: ErrorCode.NONE, message: null, type, name, entries: pick(entries) };
  }
  return { error: ErrorCode.INVALID_REQUEST, message: `resource type ${type} is not described`, type, name, entries: [] };
}
