import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Message } from '../../../src/broker/message.js';
import { JSON_PROPERTIES_CODEC, MessageHeaderCodec } from '../../../src/broker/persistence/message-header.js';

function roundTrip(codec: MessageHeaderCodec, message: Message): Message {
  return codec.decode(codec.encode(message), message.body);
}

test('stored headers give back exchange, routing key, properties and publish time, as names repeat and change', () => {
  const codec = new MessageHeaderCodec(JSON_PROPERTIES_CODEC);
  const cases: Array<[string, string]> = [
    ['orders', 'eu.paris'],
    ['orders', 'eu.paris'],
    ['orders', 'eu.lyon'],
    ['', 'eu.lyon'],
    ['échanges', 'clé.été'],
    ['échanges', ''],
    ['x'.repeat(255), 'y'.repeat(255)],
  ];
  for (const [exchange, routingKey] of cases) {
    const message = new Message(exchange, routingKey, { deliveryMode: 2, messageId: `${exchange}/${routingKey}` }, Buffer.from('body'));
    const back = roundTrip(codec, message);
    assert.equal(back.exchange, exchange);
    assert.equal(back.routingKey, routingKey);
    assert.equal(back.properties.messageId, `${exchange}/${routingKey}`);
    assert.equal(back.publishedAt, message.publishedAt);
    assert.equal(back.body.toString(), 'body');
  }
});

test('one message stored in several queues is encoded once', () => {
  const codec = new MessageHeaderCodec(JSON_PROPERTIES_CODEC);
  const message = new Message('fan', 'k', { deliveryMode: 2 }, Buffer.from('b'));
  assert.equal(codec.encode(message), codec.encode(message));
});
