/**
 * CreateTopics (key 19), v0-v7 (v5+ flexible): each topic a stream, or a super stream of N partition
 * streams (topics.ts). num_partitions -1 takes kafka.defaultPartitions; a replication factor above 1
 * is INVALID_REPLICATION_FACTOR (one node, one copy), as a one-broker Kafka answers. Explicit replica
 * assignments give the partition count. Needs configure permission on the streams.
 */
import type { KafkaApi, ResponseBody } from '../api.js';
import { refusal } from '../access.js';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { TopicError, topicConfigs } from '../topics.js';
import { topicId } from './topic-id.js';

interface TopicAnswer {
  readonly name: string;
  readonly error: number;
  readonly message: string | null;
  readonly partitions: number;
  readonly configs: Array<{ name: string; value: string; isDefault: boolean }>;
}

export const createTopics: KafkaApi = {
  key: ApiKey.CreateTopics,
  name: 'CreateTopics',
  minVersion: 0,
  maxVersion: 7,
  flexibleFrom: 5,
  handle(session, request): ResponseBody {
    const version = request.header.apiVersion;
    const body = request.body;
    const topics = body.array((r) => {
      const name = r.string();
      const numPartitions = r.int32();
      const replicationFactor = r.int16();
      const assignments = r.array((a) => {
        a.int32();
        a.array((b) => b.int32());
        a.taggedFields();
      });
      const configs = new Map<string, string | null>();
      r.array((c) => {
        configs.set(c.string(), c.nullableString());
        c.taggedFields();
      });
      r.taggedFields();
      return { name, numPartitions, replicationFactor, assignments: assignments.length, configs };
    });
    body.int32(); // timeout_ms
    const validateOnly = version >= 1 ? body.boolean() : false;
    body.taggedFields();
    const seen = new Set<string>();
    const answers: TopicAnswer[] = topics.map((t) => {
      const fail = (error: number, message: string): TopicAnswer => ({ name: t.name, error, message, partitions: -1, configs: [] });
      if (seen.has(t.name)) return fail(ErrorCode.INVALID_REQUEST, `topic '${t.name}' appears more than once in the request`);
      seen.add(t.name);
      if (t.replicationFactor > 1) return fail(ErrorCode.INVALID_REPLICATION_FACTOR, `Replication factor: ${t.replicationFactor} larger than available brokers: 1.`);
      if (t.assignments > 0 && t.numPartitions !== -1) return fail(ErrorCode.INVALID_REQUEST, 'both num_partitions and replica assignments given');
      const partitions = t.assignments > 0 ? t.assignments : t.numPartitions === -1 ? session.door.settings.defaultPartitions : t.numPartitions;
      const denied = refusal(session, 'configure', partitions === 1 ? t.name : `${t.name}-0`);
      if (denied !== undefined) return fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED, denied);
      try {
        const topic = session.door.topics.create(t.name, partitions, t.configs, session, validateOnly);
        return { name: t.name, error: ErrorCode.NONE, message: null, partitions, configs: topicConfigs(topic.arguments) };
      } catch (error) {
        if (error instanceof TopicError) return fail(error.code, error.message);
        throw error;
      }
    });
    return (w) => {
      if (version >= 2) w.int32(0); // throttle_time_ms
      w.array(answers, (tw, a) => {
        tw.string(a.name);
        if (version >= 7) tw.uuid(topicId(session.vhost, a.name));
        tw.int16(a.error);
        if (version >= 1) tw.nullableString(a.message);
        if (version >= 5) {
          tw.int32(a.partitions).int16(a.error === ErrorCode.NONE ? 1 : -1);
          tw.array(a.configs, (cw, c) => {
            cw.string(c.name).nullableString(c.value).boolean(false).int8(c.isDefault ? 5 : 1).boolean(false);
            cw.taggedFields();
          });
        }
        tw.taggedFields();
      });
      w.taggedFields();
    };
  },
};
