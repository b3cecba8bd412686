/**
 * DeleteTopics (key 20), v0-v6 (v4+ flexible; v6 names topics by name or id): the stream, or the
 * super stream's exchange and partition streams, with their logs. Needs configure permission.
 */
import type { KafkaApi, ResponseBody } from '../api.js';
import { refusal } from '../access.js';
import { ApiKey } from '../protocol/api-keys.js';
import { ErrorCode } from '../protocol/error-codes.js';
import { producerRegistry } from '../producers.js';
import { TopicError } from '../topics.js';
import { topicId, ZERO_UUID } from './topic-id.js';

interface Answer {
  readonly name: string | null;
  readonly id: Buffer;
  readonly error: number;
  readonly message: string | null;
}

export const deleteTopics: KafkaApi = {
  key: ApiKey.DeleteTopics,
  name: 'DeleteTopics',
  minVersion: 0,
  maxVersion: 6,
  flexibleFrom: 4,
  handle(session, request): ResponseBody {
    const version = request.header.apiVersion;
    const body = request.body;
    const wanted: Array<{ name: string | null; id: Buffer }> =
      version >= 6
        ? body.array((r) => {
            const name = r.nullableString();
            const id = Buffer.from(r.uuid());
            r.taggedFields();
            return { name, id };
          })
        : body.array((r) => ({ name: r.string(), id: ZERO_UUID }));
    body.int32(); // timeout_ms
    body.taggedFields();
    const answers: Answer[] = wanted.map(({ name: given, id }) => {
      const name = given ?? session.door.topics.list().find((t) => topicId(session.vhost, t.name).equals(id))?.name ?? null;
      const fail = (error: number, message: string): Answer => ({ name, id, error, message });
      if (name === null) return fail(ErrorCode.UNKNOWN_TOPIC_ID, 'no topic has this id');
      const topic = session.door.topics.find(name);
      if (topic === undefined) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `This server does not host this topic: ${name}`);
      for (const partition of topic.partitions) {
        const denied = refusal(session, 'configure', partition.queue.name);
        if (denied !== undefined) return fail(ErrorCode.TOPIC_AUTHORIZATION_FAILED, denied);
      }
      try {
        for (const partition of topic.partitions) producerRegistry(session).forget(partition.log.name);
        session.door.topics.delete(name, session);
        return { name, id: topicId(session.vhost, name), error: ErrorCode.NONE, message: null };
      } catch (error) {
        if (error instanceof TopicError) return fail(error.code, error.message);
        throw error;
      }
    });
    return (w) => {
      if (version >= 1) w.int32(0); // throttle_time_ms
      w.array(answers, (aw, a) => {
        if (version >= 6) aw.nullableString(a.name).uuid(a.id);
        else aw.string(a.name ?? '');
        aw.int16(a.error);
        if (version >= 5) aw.nullableString(a.message);
        aw.taggedFields();
      });
      w.taggedFields();
    };
  },
};
