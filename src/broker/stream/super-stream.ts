/**
 * Super streams (partitioned streams, RabbitMQ 3.11's): an exchange of type `x-super-stream` whose
 * bindings are its partitions, each a stream queue (by RabbitMQ's convention `<name>-<i>`, bound with
 * key `<i>` and the binding argument `x-stream-partition-order: i`). A message whose routing key is a
 * binding key goes to that partition (the direct routing RabbitMQ's super stream exchange does); any other
 * key is hashed to one: MurmurHash3 (x86, 32-bit, seed 104729) of its UTF-8 bytes, unsigned, modulo the
 * partition count, as RabbitMQ's stream clients route by default, so that AMQP publishers and stream
 * clients put one key on one partition. Partitions are ordered by x-stream-partition-order (then by
 * binding key).
 */
import type { Binding, RouteSink } from '../binding.js';
import { fieldNumber, type Message } from '../message.js';
import type { ExchangeRouter, ExchangeType } from '../exchanges/exchange-type.js';
import { murmur3 } from '../../util/murmur3.js';

export const SUPER_STREAM_TYPE = 'x-super-stream';
const SEED = 104729;

/** MurmurHash3 x86 32-bit with RabbitMQ's stream clients' seed. */
function partitionHash(bytes: Buffer): number {
  return murmur3(bytes, SEED);
}

/** The partition (index into the ordered partitions) a routing key hashes to. */
export function partitionOf(routingKey: string, partitions: number): number {
  return partitionHash(Buffer.from(routingKey, 'utf8')) % partitions;
}

class SuperStreamRouter implements ExchangeRouter {
  private readonly byKey = new Map<string, Binding[]>();
  private ordered: Binding[] = [];

  addBinding(binding: Binding): void {
    const list = this.byKey.get(binding.routingKey) ?? [];
    list.push(binding);
    this.byKey.set(binding.routingKey, list);
    this.ordered = [...this.ordered, binding].sort(byPartitionOrder);
  }

  removeBinding(binding: Binding): void {
    const list = this.byKey.get(binding.routingKey)?.filter((b) => b !== binding) ?? [];
    if (list.length === 0) this.byKey.delete(binding.routingKey);
    else this.byKey.set(binding.routingKey, list);
    this.ordered = this.ordered.filter((b) => b !== binding);
  }

  route(message: Message, sink: RouteSink): void {
    const direct = this.byKey.get(message.routingKey);
    if (direct !== undefined) {
      for (const binding of direct) sink.add(binding.destination);
      return;
    }
    if (this.ordered.length === 0) return;
    sink.add(this.ordered[partitionOf(message.routingKey, this.ordered.length)]!.destination);
  }
}

function byPartitionOrder(a: Binding, b: Binding): number {
  const oa = fieldNumber(a.arguments['x-stream-partition-order']) ?? Number.MAX_SAFE_INTEGER;
  const ob = fieldNumber(b.arguments['x-stream-partition-order']) ?? Number.MAX_SAFE_INTEGER;
  if (oa !== ob) return oa - ob;
  return a.routingKey < b.routingKey ? -1 : a.routingKey > b.routingKey ? 1 : 0;
}

export const superStreamExchangeType: ExchangeType = {
  name: SUPER_STREAM_TYPE,
  createRouter: () => new SuperStreamRouter(),
};
