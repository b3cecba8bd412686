"""kombu (Celery's messaging layer, on py-amqp) against Warren.

Usage: kombu_client.py <amqp-url>. Prints `ok <step>` per passed step; any failure raises.
"""
import socket
import time
import uuid

import kombu
from kombu import Connection, Consumer, Exchange, Producer, Queue

from compat_check import broker_url, expect, expect_equal, ok

PREFIX = "kombu-" + uuid.uuid4().hex[:8]


def simple_queue(connection):
    queue = connection.SimpleQueue(PREFIX + ".simple")
    try:
        payloads = [{"n": index, "text": "caf\u00e9", "list": [1, 2.5, None]} for index in range(5)]
        for payload in payloads:
            queue.put(payload, serializer="json", compression="zlib")
        # Publisher confirms are on (transport option confirm_publish), so all five are queued by now.
        expect_equal(queue.qsize(), len(payloads), "qsize")
        received = []
        for _ in payloads:
            message = queue.get(block=True, timeout=5)
            expect_equal(message.content_type, "application/json", "content type")
            expect_equal(message.headers.get("compression"), "application/x-gzip", "compression header")
            received.append(message.payload)
            message.ack()
        expect_equal(received, payloads, "SimpleQueue payloads")
        try:
            queue.get(block=True, timeout=0.3)
            raise AssertionError("empty SimpleQueue returned a message")
        except queue.Empty:
            pass
    finally:
        # Cancel before deleting: a consumer of a deleted queue gets basic.cancel, which py-amqp raises.
        queue.consumer.cancel()
        queue.queue.delete()
        queue.close()
    ok("simple-queue")


def topic_producer_consumer(connection):
    exchange = Exchange(PREFIX + ".topic", type="topic", durable=False, auto_delete=False)
    errors = Queue(PREFIX + ".errors", exchange=exchange, routing_key="*.error", durable=False)
    everything = Queue(PREFIX + ".all", exchange=exchange, routing_key="#", durable=False,
                       queue_arguments={"x-message-ttl": 60000})
    routing_keys = ["app.error", "app.info", "db.error", "db.debug.deep"]
    with connection.channel() as channel:
        producer = Producer(channel, exchange=exchange, serializer="json")
        for queue in (errors, everything):
            queue(channel).declare()
        for key in routing_keys:
            producer.publish({"key": key}, routing_key=key, headers={"origin": "kombu", "attempt": 1},
                             priority=3, retry=True, declare=[exchange])

    got = {"errors": [], "all": []}

    def collect(name):
        def on_message(body, message):
            expect_equal(message.headers.get("origin"), "kombu", "header origin")
            expect_equal(message.properties.get("priority"), 3, "priority")
            got[name].append(body["key"])
            message.ack()
        return on_message

    with connection.channel() as channel:
        consumers = [
            Consumer(channel, queues=[errors], callbacks=[collect("errors")], accept=["json"], prefetch_count=2),
            Consumer(channel, queues=[everything], callbacks=[collect("all")], accept=["json"]),
        ]
        for consumer in consumers:
            consumer.consume()
        try:
            while len(got["errors"]) < 2 or len(got["all"]) < 4:
                connection.drain_events(timeout=5)
        except socket.timeout:
            raise AssertionError("timed out waiting for deliveries; got %r" % (got,))
        for consumer in consumers:
            consumer.cancel()
        errors(channel).delete()
        everything(channel).delete()
        exchange(channel).delete()
    expect_equal(sorted(got["errors"]), ["app.error", "db.error"], "*.error binding")
    expect_equal(sorted(got["all"]), sorted(routing_keys), "# binding")
    ok("topic-producer-consumer")


def rpc_reply_to(connection):
    """Direct reply-to through kombu, the way Celery's rpc:// backend receives results."""
    reply_queue = Queue("amq.rabbitmq.reply-to", no_ack=True)
    request_queue = Queue(PREFIX + ".rpc", durable=False, auto_delete=True)
    replies = []
    with connection.channel() as client_channel, connection.channel() as server_channel:
        consumer = Consumer(client_channel, queues=[reply_queue], no_ack=True,
                            callbacks=[lambda body, message: replies.append(body)], accept=["json"])
        consumer.consume()
        request_queue(server_channel).declare()
        Producer(client_channel).publish({"ask": 41}, routing_key=request_queue.name, serializer="json",
                                         reply_to="amq.rabbitmq.reply-to", correlation_id="rpc-1")
        message = None
        for _ in range(100):
            message = request_queue(server_channel).get(no_ack=True)
            if message is not None:
                break
            time.sleep(0.02)
        expect(message is not None, "request arrived")
        reply_to = message.properties["reply_to"]
        expect(reply_to.startswith("amq.rabbitmq.reply-to."), "reply_to rewritten by the broker: " + reply_to)
        Producer(server_channel).publish({"answer": message.payload["ask"] + 1}, routing_key=reply_to,
                                         serializer="json", correlation_id="rpc-1")
        while not replies:
            connection.drain_events(timeout=5)
        consumer.cancel()
    expect_equal(replies, [{"answer": 42}], "direct reply-to reply")
    ok("direct-reply-to")


def main():
    with Connection(broker_url(), connect_timeout=5, transport_options={"confirm_publish": True}) as connection:
        connection.ensure_connection(max_retries=1)
        expect_equal(connection.transport_cls, "amqp", "kombu transport")
        simple_queue(connection)
        topic_producer_consumer(connection)
        rpc_reply_to(connection)
    ok("close", kombu.__version__)


if __name__ == "__main__":
    main()
