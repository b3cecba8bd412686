"""py-amqp (the transport under kombu and Celery) against Warren.

Usage: pyamqp_client.py <amqp-url>. Prints `ok <step>` per passed step; any failure raises.
"""
import datetime
import decimal
import socket
import time
import urllib.parse
import uuid

import amqp
import amqp.exceptions

from compat_check import broker_url, expect, expect_equal, ok

PREFIX = "pyamqp-" + uuid.uuid4().hex[:8]

# py-amqp encodes floats as 'd' and bytes as 'S' (amqp.serialization._write_item).
HEADERS = {
    "str": "h\u00e9llo",
    "int": 7,
    "negative": -123456,
    "long": 2**50,
    "float": 2.25,
    "bool": True,
    "decimal": decimal.Decimal("12.5"),
    "timestamp": datetime.datetime(2023, 5, 6, 7, 8, 9),
    "void": None,
    "list": [1, "a", [2.5, False]],
    "table": {"inner": {"x": 1}},
}


def connect(**options):
    url = urllib.parse.urlparse(broker_url())
    connection = amqp.Connection(
        host="%s:%d" % (url.hostname, url.port),
        userid=url.username,
        password=url.password,
        virtual_host="/",
        connect_timeout=5,
        **options,
    )
    connection.connect()
    return connection


def handshake(connection):
    expect(connection.connected, "connected")
    capabilities = connection.server_capabilities
    for name in ("publisher_confirms", "basic.nack", "consumer_cancel_notify", "connection.blocked"):
        expect(capabilities.get(name) is True, "server capability %s: %r" % (name, capabilities))
    expect(connection.frame_max > 4096, "negotiated frame_max %d" % connection.frame_max)
    expect(b"AMQPLAIN" in connection.mechanisms and b"PLAIN" in connection.mechanisms,
           "offered mechanisms %r" % connection.mechanisms)
    for mechanism in ("AMQPLAIN", "PLAIN"):
        connect(login_method=mechanism).close()
    ok("connect")


def declare(channel):
    exchange = PREFIX + ".x"
    queue = PREFIX + ".q"
    channel.exchange_declare(exchange, "direct", durable=True, auto_delete=False)
    name, count, consumers = channel.queue_declare(queue, durable=True, auto_delete=False,
                                                   arguments={"x-queue-mode": "default"})
    expect_equal((name, count, consumers), (queue, 0, 0), "queue.declare-ok")
    channel.queue_bind(queue, exchange, routing_key=queue)
    ok("declare")
    return exchange, queue


def publish_and_get(channel, exchange, queue):
    message = amqp.Message(
        b"payload",
        content_type="text/plain",
        application_headers=HEADERS,
        delivery_mode=2,
        priority=1,
        correlation_id="c-1",
        message_id="m-1",
    )
    channel.basic_publish(message, exchange=exchange, routing_key=queue)
    got = wait_for_get(channel, queue)
    expect_equal(got.body, b"payload", "body")
    expect_equal(got.properties["content_type"], "text/plain", "content_type")
    expect_equal(got.properties["delivery_mode"], 2, "delivery_mode")
    expect_equal(got.properties["correlation_id"], "c-1", "correlation_id")
    headers = got.properties["application_headers"]
    for name, value in HEADERS.items():
        expect_equal(headers.get(name), value, "header " + name)
    expect_equal(got.delivery_info["routing_key"], queue, "routing key")
    expect_equal(got.delivery_info["message_count"], 0, "message_count")
    channel.basic_ack(got.delivery_tag)
    expect(channel.basic_get(queue) is None, "basic_get on an empty queue returns None")
    ok("publish-get", len(HEADERS))


def wait_for_get(channel, queue):
    for _ in range(100):
        message = channel.basic_get(queue, no_ack=False)
        if message is not None:
            return message
        time.sleep(0.02)
    raise AssertionError("no message on " + queue)


def large_message(channel, exchange, queue):
    """A body many times frame_max, split into body frames by the client and reassembled by Warren."""
    body = bytes(range(256)) * 4096  # 1 MiB
    channel.basic_publish(amqp.Message(body), exchange=exchange, routing_key=queue)
    got = wait_for_get(channel, queue)
    expect_equal(len(got.body), len(body), "large body length")
    expect(got.body == body, "large body content")
    channel.basic_ack(got.delivery_tag)
    ok("large-message", len(body))


def consume(connection, channel, exchange, queue):
    count = 100
    channel.basic_qos(prefetch_size=0, prefetch_count=10, a_global=False)
    for index in range(count):
        channel.basic_publish(amqp.Message(str(index).encode()), exchange=exchange, routing_key=queue)
    received = []

    def on_message(message):
        received.append(int(message.body))
        if len(received) % 2 == 0:
            message.channel.basic_ack(message.delivery_tag, multiple=True)

    tag = channel.basic_consume(queue, callback=on_message)
    while len(received) < count:
        connection.drain_events(timeout=5)
    channel.basic_cancel(tag)
    expect_equal(received, list(range(count)), "consumed in order")
    ok("consume", count)


def reject_and_redeliver(connection, channel, exchange, queue):
    channel.basic_publish(amqp.Message(b"again"), exchange=exchange, routing_key=queue)
    deliveries = []

    def on_message(message):
        deliveries.append(message.delivery_info["redelivered"])
        if len(deliveries) == 1:
            message.channel.basic_reject(message.delivery_tag, requeue=True)
        else:
            message.channel.basic_ack(message.delivery_tag)

    tag = channel.basic_consume(queue, callback=on_message)
    while len(deliveries) < 2:
        connection.drain_events(timeout=5)
    channel.basic_cancel(tag)
    expect_equal(deliveries, [False, True], "redelivered flags")
    ok("reject-requeue")


def confirms(connection, exchange, queue):
    channel = connection.channel()
    channel.confirm_select()
    # With confirms on, py-amqp's basic_publish waits for basic.ack (and raises on basic.nack).
    for index in range(50):
        channel.basic_publish(amqp.Message(b"c%d" % index, delivery_mode=2), exchange=exchange,
                              routing_key=queue, confirm_timeout=5)
    _, count, _ = channel.queue_declare(queue, passive=True)
    expect_equal(count, 50, "confirmed messages in the queue")
    channel.queue_purge(queue)
    channel.close()
    ok("confirm", 50)


def nowait_methods(connection):
    """nowait=True: Warren must answer nothing, and a later synchronous call proves the channel is fine."""
    channel = connection.channel()
    exchange = PREFIX + ".nowait-x"
    queue = PREFIX + ".nowait-q"
    channel.exchange_declare(exchange, "fanout", auto_delete=False, nowait=True)
    channel.queue_declare(queue, auto_delete=False, nowait=True)
    channel.queue_bind(queue, exchange, nowait=True)
    channel.basic_publish(amqp.Message(b"nowait"), exchange=exchange)
    channel.basic_consume(queue, consumer_tag="nowait-ctag", nowait=True, callback=lambda message: None)
    channel.basic_cancel("nowait-ctag", nowait=True)
    channel.queue_purge(queue, nowait=True)
    name, count, consumers = channel.queue_declare(queue, passive=True)
    expect_equal(consumers, 0, "consumers after nowait cancel")
    channel.queue_delete(queue, nowait=True)
    channel.exchange_delete(exchange, nowait=True)
    try:
        channel.queue_declare(queue, passive=True)
        raise AssertionError("queue deleted with nowait still exists")
    except amqp.exceptions.NotFound:
        pass
    ok("nowait")


def channel_error(connection):
    channel = connection.channel()
    try:
        channel.exchange_declare(PREFIX + ".missing", "direct", passive=True)
        raise AssertionError("passive declare of a missing exchange succeeded")
    except amqp.exceptions.NotFound as error:
        expect_equal(error.reply_code, 404, "reply code")
    channel = connection.channel()
    try:
        channel.exchange_declare(PREFIX + ".x", "fanout", durable=True)
        raise AssertionError("redeclaring an exchange with another type succeeded")
    except amqp.exceptions.PreconditionFailed as error:
        expect_equal(error.reply_code, 406, "reply code")
    expect(connection.connected, "connection survived")
    ok("channel-errors")


def connection_error():
    url = urllib.parse.urlparse(broker_url())
    connection = amqp.Connection(host="%s:%d" % (url.hostname, url.port), userid="guest", password="wrong",
                                 connect_timeout=5)
    try:
        connection.connect()
        raise AssertionError("login with a wrong password succeeded")
    except amqp.exceptions.AccessRefused as error:
        expect_equal(error.reply_code, 403, "reply code")
    except (ConnectionError, socket.error) as error:
        raise AssertionError("wrong password: expected connection.close 403, got %r" % (error,))
    ok("access-refused")


def heartbeat():
    connection = connect(heartbeat=2)
    expect_equal(connection.heartbeat, 2, "negotiated heartbeat")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        connection.heartbeat_tick()  # sends ours, raises ConnectionForced if Warren went quiet
        try:
            connection.drain_events(timeout=0.25)
        except socket.timeout:
            pass
    connection.channel().queue_declare("", exclusive=True)
    connection.close()
    ok("heartbeat")


def main():
    connection = connect()
    handshake(connection)
    channel = connection.channel()
    exchange, queue = declare(channel)
    publish_and_get(channel, exchange, queue)
    large_message(channel, exchange, queue)
    consume(connection, channel, exchange, queue)
    reject_and_redeliver(connection, channel, exchange, queue)
    confirms(connection, exchange, queue)
    nowait_methods(connection)
    channel_error(connection)
    channel = connection.channel()
    channel.queue_delete(queue)
    channel.exchange_delete(exchange)
    connection.close()
    ok("close")
    connection_error()
    heartbeat()


if __name__ == "__main__":
    main()
