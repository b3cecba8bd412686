import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Binding, RouteSink } from '../../../src/broker/binding.js';
import { preconditionFailed } from '../../../src/broker/errors.js';
import type { ExchangeType } from '../../../src/broker/exchanges/exchange-type.js';
import type { Message } from '../../../src/broker/message.js';
import { Broker } from '../../../src/broker/broker.js';
import { declareQueue, message, owner, reached } from './fakes.js';
import { amqpThrows } from '../../helpers/amqp-errors.js';

/** A plugin type for the test: routes on the routing key's length, must be declared with x-mode. */
const byLength: ExchangeType = {
  name: 'x-by-length',
  identityArguments: ['x-mode'],
  validateDeclare(args, resource) {
    if (args['x-mode'] === undefined) throw preconditionFailed(`x-mode missing for ${resource}`);
  },
  createRouter() {
    const bindings: Binding[] = [];
    return {
      addBinding: (b: Binding) => void bindings.push(b),
      removeBinding: (b: Binding) => void bindings.splice(bindings.indexOf(b), 1),
      route(m: Message, sink: RouteSink) {
        for (const b of bindings) if (Number(b.routingKey) === m.routingKey.length) sink.add(b.destination);
      },
    };
  },
};

test('plugin exchange types slot in through BrokerOptions.exchangeTypes, per broker', async () => {
  const broker = new Broker({ exchangeTypes: [byLength] });
  const plain = new Broker();
  await broker.start();
  await plain.start();
  try {
    const vhost = broker.getVhost('/')!;
    const req = { name: 'len', type: 'x-by-length', durable: false, autoDelete: false, internal: false, arguments: {} };
    amqpThrows(() => vhost.declareExchange(req), { replyCode: 406, message: "x-mode missing for exchange 'len' in vhost '/'" });
    vhost.declareExchange({ ...req, arguments: { 'x-mode': 'a' } });
    amqpThrows(() => vhost.declareExchange({ ...req, arguments: { 'x-mode': 'b' } }), { replyCode: 406 });
    declareQueue(vhost, 'three', owner());
    vhost.bindQueue('three', 'len', '3', {}, owner());
    assert.equal(vhost.publish(message('len', 'abc')).routed, 1);
    assert.equal(vhost.publish(message('len', 'abcd')).routed, 0);
    assert.deepEqual(reached(vhost, ['three']), ['three']);
    amqpThrows(() => plain.getVhost('/')!.declareExchange({ ...req, arguments: { 'x-mode': 'a' } }), { replyCode: 503 });
  } finally {
    await broker.stop();
    await plain.stop();
  }
});
