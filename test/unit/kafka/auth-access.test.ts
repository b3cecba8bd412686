import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { UserRegistry } from '../../../src/auth/index.js';
import { Broker } from '../../../src/broker/broker.js';
import { DEFAULT_KAFKA_SETTINGS, KafkaDoor } from '../../../src/kafka/door.js';
import { topicAccessError, topicAllowed, topicRefusal } from '../../../src/kafka/auth/access.js';
import type { KafkaSession } from '../../../src/kafka/session.js';

function session(door: KafkaDoor, user: string | undefined): KafkaSession {
  return { door, user, vhost: '/' } as unknown as KafkaSession;
}

test('topic permissions follow the user\'s configure/write/read patterns in the door\'s vhost', () => {
  const users = new UserRegistry();
  users.addUser('writer', 'pw');
  users.setPermissions('writer', '/', { configure: '^orders$', write: '^orders', read: '' });
  users.addUser('elsewhere', 'pw');
  users.setPermissions('elsewhere', 'other', { configure: '.*', write: '.*', read: '.*' });
  const door = new KafkaDoor(new Broker(), users, DEFAULT_KAFKA_SETTINGS, pino({ level: 'silent' }), []);
  const writer = session(door, 'writer');
  assert.equal(topicAllowed(writer, 'configure', 'orders'), true);
  assert.equal(topicAllowed(writer, 'configure', 'orders-eu'), false);
  assert.equal(topicAllowed(writer, 'write', 'orders-eu'), true);
  assert.equal(topicAccessError(writer, 'read', 'orders'), 29);
  assert.equal(topicAccessError(writer, 'write', 'orders'), 0);
  assert.equal(topicRefusal(writer, 'read', 'orders'), "read access to topic 'orders' in vhost '/' refused for user 'writer'");
  assert.equal(topicAllowed(session(door, 'elsewhere'), 'read', 'orders'), false);
  assert.equal(topicAllowed(session(door, undefined), 'read', 'orders'), false);
  assert.equal(topicAllowed(session(door, 'deleted'), 'read', 'orders'), false);
});
