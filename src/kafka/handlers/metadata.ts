/**
 * Metadata (key 3), v0-v9 (v9 flexible). One broker, Warren itself, at the advertised address (the
 * address the client connected to, or kafka.advertisedHost/Port), is the leader and only replica of
 * every partition. v0: an empty topic list means all topics; v1+: null means all, empty none.
 * A missing topic is UNKNOWN_TOPIC_OR_PARTITION unless kafka.autoCreateTopics (and, v4+, the
 * request's allow_auto_topic_creation) creates it.
 */
import type { KafkaApi, ResponseBody } from '../api.js';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import type { Writer } from '../protocol/writer.js';
import type { KafkaSession } from '../session.js';
import { TopicError, type Topic } from '../topics.js';
import { autoCreate } from './topic-lookup.js';

interface TopicAnswer {
  readonly name: string;
  readonly error: number;
  readonly topic: Topic | undefined;
}

export const metadata: KafkaApi = {
  key: ApiKey.Metadata,
  name: 'Metadata',
  minVersion: 0,
  maxVersion: 9,
  flexibleFrom: 9,
  handle(session, request): ResponseBody {
    const version = request.header.apiVersion;
    const body = request.body;
    const count = body.arrayLength();
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      names.push(body.string());
      body.taggedFields();
    }
    const allowAutoCreate = version >= 4 ? body.boolean() : true;
    if (version >= 8) {
      body.boolean(); // include_cluster_authorized_operations
      body.boolean(); // include_topic_authorized_operations
    }
    body.taggedFields();
    const all = count === -1 || (version === 0 && count === 0);
    const answers: TopicAnswer[] = all
      ? session.door.topics.list().map((topic) => ({ name: topic.name, error: ErrorCode.NONE, topic }))
      : names.map((name) => lookup(session, name, allowAutoCreate));
    return (w) => writeMetadata(w, version, session, answers);
  },
};

function lookup(session: KafkaSession, name: string, allowAutoCreate: boolean): TopicAnswer {
  const found = session.door.topics.find(name);
  if (found !== undefined) return { name, error: ErrorCode.NONE, topic: found };
  if (!allowAutoCreate) return { name, error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, topic: undefined };
  try {
    const created = autoCreate(session, name);
    return created === undefined ? { name, error: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, topic: undefined } : { name, error: ErrorCode.NONE, topic: created };
  } catch (error) {
    return { name, error: error instanceof TopicError ? error.code : ErrorCode.UNKNOWN_SERVER_ERROR, topic: undefined };
  }
}

/** Where clients are told to connect: configured, else the address and port this client used. */
export function advertisedAddress(session: KafkaSession): { host: string; port: number } {
  const settings = session.door.settings;
  const local = session.localAddress.startsWith('::ffff:') ? session.localAddress.slice(7) : session.localAddress;
  return { host: settings.advertisedHost ?? local, port: settings.advertisedPort ?? session.localPort };
}

function writeMetadata(w: Writer, version: number, session: KafkaSession, answers: readonly TopicAnswer[]): void {
  const nodeId = session.door.settings.nodeId;
  if (version >= 3) w.int32(0); // throttle_time_ms
  const { host, port } = advertisedAddress(session);
  w.arrayLength(1);
  w.int32(nodeId).string(host).int32(port);
  if (version >= 1) w.nullableString(null); // rack
  w.taggedFields();
  if (version >= 2) w.nullableString(session.door.settings.clusterId);
  if (version >= 1) w.int32(nodeId); // controller_id
  w.arrayLength(answers.length);
  for (const answer of answers) {
    w.int16(answer.error).string(answer.name);
    if (version >= 1) w.boolean(false); // is_internal
    const partitions = answer.topic?.partitions ?? [];
    w.arrayLength(partitions.length);
    for (const partition of partitions) {
      w.int16(ErrorCode.NONE).int32(partition.index).int32(nodeId);
      if (version >= 7) w.int32(0); // leader_epoch
      w.arrayLength(1).int32(nodeId); // replica_nodes
      w.arrayLength(1).int32(nodeId); // isr_nodes
      if (version >= 5) w.arrayLength(0); // offline_replicas
      w.taggedFields();
    }
    if (version >= 8) w.int32(-2147483648); // topic_authorized_operations: not computed
    w.taggedFields();
  }
  if (version >= 8) w.int32(-2147483648); // cluster_authorized_operations
  w.taggedFields();
}
