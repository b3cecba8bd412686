#!/usr/bin/python3
"""The PerfTest-style scenarios (bench/clients/scenarios.ts has the table) on pika, Python's AMQP client.

Pika's asynchronous SelectConnection, one I/O loop for a producer and a consumer connection: the way a
fast pika application is written (BlockingConnection waits for every confirm, a window of one). Pika has
no write backpressure to wait on, so without confirms the producer keeps at most PUBLISHED_AHEAD
messages beyond what the consumer has received, as a blocked socket would. Prints one JSON line.

    /usr/bin/python3 bench/clients/pika_perf.py URL SCENARIO SECONDS
"""
import collections
import json
import os
import struct
import sys
import time

import pika

# bodyBytes, persistent, confirmWindow, queues, autoAck, ratePerSecond: as in bench/clients/scenarios.ts.
SCENARIOS = {
    "transient": (100, False, 0, 1, False, 0),
    "persistent": (100, True, 1000, 1, False, 0),
    "fanout": (100, False, 0, 10, False, 0),
    "noack": (16, False, 0, 1, True, 0),
    "latency": (100, False, 1000, 1, False, 5000),
}
PREFETCH = 1000
PUBLISHES_PER_TURN = 200
PUBLISHED_AHEAD = 20000


class Run:
    def __init__(self, url, name, seconds):
        self.name = name
        (self.body_bytes, self.persistent, self.window, self.queue_count, self.auto_ack,
         self.rate) = SCENARIOS[name]
        self.seconds = seconds
        self.params = pika.URLParameters(url)
        self.params.heartbeat = 0
        self.loop = None
        tag = "%x" % os.getpid()
        self.exchange = "pikaperf-fanout-" + tag if self.queue_count > 1 else ""
        self.queues = ["pikaperf-%s-%d" % (tag, i) for i in range(self.queue_count)]
        self.sent = 0
        self.received = 0
        self.received_at_end = 0
        self.latencies = []
        self.outstanding = collections.deque()
        self.done = False
        self.start = self.elapsed = 0.0
        self.properties = pika.BasicProperties(delivery_mode=2 if self.persistent else 1)

    # -- consumer side ---------------------------------------------------------------------------
    def run(self):
        self.consumer = pika.SelectConnection(self.params, on_open_callback=self.consumer_open)
        self.loop = self.consumer.ioloop
        self.loop.start()

    def consumer_open(self, connection):
        connection.channel(on_open_callback=self.consumer_channel)

    def consumer_channel(self, channel):
        self.cchannel = channel
        if self.exchange:
            channel.exchange_declare(self.exchange, "fanout", durable=False, auto_delete=True,
                                     callback=lambda _: self.declare(0))
        else:
            self.declare(0)

    def declare(self, i):
        if i == len(self.queues):
            return self.cchannel.basic_qos(prefetch_count=PREFETCH, callback=lambda _: self.subscribe())
        queue = self.queues[i]
        next_step = lambda _: self.declare(i + 1)
        bind = (lambda _: self.cchannel.queue_bind(queue, self.exchange, callback=next_step)) if self.exchange else next_step
        self.cchannel.queue_declare(queue, durable=self.persistent, callback=bind)

    def subscribe(self):
        for queue in self.queues:
            self.cchannel.basic_consume(queue, self.deliver, auto_ack=self.auto_ack)
        self.producer = pika.SelectConnection(self.params, on_open_callback=self.producer_open,
                                              custom_ioloop=self.loop)

    def deliver(self, channel, method, _properties, body):
        if self.rate:
            self.latencies.append((time.perf_counter() - struct.unpack_from("<d", body, 0)[0]) * 1000)
        self.received += 1
        if not self.auto_ack:
            channel.basic_ack(method.delivery_tag)
        if self.waiting_for_consumer:
            self.waiting_for_consumer = False
            self.loop.call_later(0, self.publish_some)

    # -- producer side ---------------------------------------------------------------------------
    waiting_for_consumer = False

    def producer_open(self, connection):
        connection.channel(on_open_callback=self.producer_channel)

    def producer_channel(self, channel):
        self.pchannel = channel
        if self.window:
            channel.confirm_delivery(self.confirmed)
        self.start = time.perf_counter()
        self.loop.call_later(self.seconds, self.finish)
        self.publish_some()

    def confirmed(self, frame):
        tag, multiple = frame.method.delivery_tag, frame.method.multiple
        if multiple:
            while self.outstanding and self.outstanding[0] <= tag:
                self.outstanding.popleft()
        elif self.outstanding and self.outstanding[0] == tag:
            self.outstanding.popleft()
        elif tag in self.outstanding:
            self.outstanding.remove(tag)
        if self.window_full_wait:
            self.window_full_wait = False
            self.publish_some()

    window_full_wait = False

    def publish_some(self):
        if self.done:
            return
        body = bytearray(self.body_bytes)
        for _ in range(PUBLISHES_PER_TURN):
            if self.rate:
                due = self.start + self.sent / self.rate
                now = time.perf_counter()
                if now < due:
                    return self.loop.call_later(due - now, self.publish_some)
            if self.window and len(self.outstanding) >= self.window:
                self.window_full_wait = True
                return
            if not self.window and self.sent * self.queue_count - self.received > PUBLISHED_AHEAD * self.queue_count:
                self.waiting_for_consumer = True
                return
            struct.pack_into("<d", body, 0, time.perf_counter())
            self.pchannel.basic_publish(self.exchange, "" if self.exchange else self.queues[0], bytes(body),
                                        self.properties)
            self.sent += 1
            if self.window:
                self.outstanding.append(self.sent)
        self.loop.call_later(0, self.publish_some)

    # -- the end ----------------------------------------------------------------------------------
    def finish(self):
        self.done = True
        self.elapsed = time.perf_counter() - self.start
        self.received_at_end = self.received
        self.producer.close()
        # In-flight deliveries land before the queues go, so they do not count as lost in the next run.
        self.loop.call_later(0.2, lambda: self.delete(0))

    def delete(self, i):
        if i == len(self.queues):
            if self.exchange:
                return self.cchannel.exchange_delete(self.exchange, callback=lambda _: self.close())
            return self.close()
        self.cchannel.queue_delete(self.queues[i], callback=lambda _: self.delete(i + 1))

    def close(self):
        self.consumer.close()
        self.loop.call_later(0.05, self.loop.stop)

    def result(self):
        out = {"scenario": self.name, "seconds": self.elapsed, "sent": self.sent, "received": self.received_at_end,
               "sentPerSecond": self.sent / self.elapsed, "receivedPerSecond": self.received_at_end / self.elapsed}
        if self.latencies:
            ordered = sorted(self.latencies)
            at = lambda q: ordered[min(len(ordered) - 1, int(len(ordered) * q))]
            out["latencyMs"] = {"p50": at(0.5), "p99": at(0.99), "max": ordered[-1]}
        return out


def main():
    if len(sys.argv) != 4 or sys.argv[2] not in SCENARIOS:
        sys.stderr.write("usage: pika_perf.py URL %s SECONDS\n" % "|".join(SCENARIOS))
        sys.exit(2)
    run = Run(sys.argv[1], sys.argv[2], float(sys.argv[3]))
    run.run()
    print(json.dumps(run.result()))


if __name__ == "__main__":
    main()
