/**
 * kafkajs as a producer, for bench/kafka.ts: sends `records` records of `bytes` to partition 0 in
 * sends of 1000 records with up to 8 sends in flight, then prints {"records":N,"seconds":S}. The
 * connection and metadata are set up before the clock starts.
 *
 *   node dist/bench/kafka/kafkajs-producer.js <bootstrap> <topic> <records> <bytes> <acks: 1|-1>
 */
import { Kafka, logLevel } from 'kafkajs';

const [bootstrap, topic, recordsArg, bytesArg, acksArg] = process.argv.slice(2);
const records = Number(recordsArg);
const value = Buffer.alloc(Number(bytesArg), 0x61);
const acks = Number(acksArg);
const PER_SEND = 1000;
const IN_FLIGHT = 8;

const kafka = new Kafka({ clientId: 'warren-bench', brokers: [bootstrap!], logLevel: logLevel.ERROR });
const producer = kafka.producer({ allowAutoTopicCreation: true });
await producer.connect();
const messages = new Array(PER_SEND).fill(null).map(() => ({ value }));
// One send first: topic metadata (and auto-creation) outside the measurement.
await producer.send({ topic: topic!, acks, messages: [{ value }] });
let sent = 1;
const started = process.hrtime.bigint();
async function lane(): Promise<void> {
  while (sent < records) {
    const n = Math.min(PER_SEND, records - sent);
    sent += n;
    await producer.send({ topic: topic!, acks, messages: n === PER_SEND ? messages : messages.slice(0, n) });
  }
}
await Promise.all(new Array(IN_FLIGHT).fill(null).map(() => lane()));
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
await producer.disconnect();
console.log(JSON.stringify({ records: records - 1, seconds }));
