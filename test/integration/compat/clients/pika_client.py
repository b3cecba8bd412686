"""pika (BlockingConnection) against Warren: the calls a typical pika application makes.

Usage: pika_client.py <amqp-url>. Prints `ok <step>` per passed step; any failure raises.
"""
import datetime
import decimal
import time
import uuid

import pika
import pika.exceptions

from compat_check import broker_url, expect, expect_equal, ok

URL = broker_url()
PREFIX = "pika-" + uuid.uuid4().hex[:8]

# One of each AMQP field-table type pika can encode (pika.data.encode_value; pika 1.2 has no floats),
# nested ones included.
HEADERS = {
    "str": "hello \u00e9\u00e8",
    "int": 42,
    "negative": -7,
    "long": 2**40 + 3,
    "bool-true": True,
    "bool-false": False,
    "decimal": decimal.Decimal("3.14"),
    "timestamp": datetime.datetime(2024, 1, 2, 3, 4, 5),
    "void": None,
    "bytes": b"\x00\x01\xffraw",
    "list": [1, "two", decimal.Decimal("0.5"), None, [True]],
    "table": {"nested": {"deeper": "yes"}, "n": 1},
}


def connect(**params):
    parameters = pika.URLParameters(URL)
    parameters.socket_timeout = 5
    parameters.blocked_connection_timeout = 10
    for name, value in params.items():
        setattr(parameters, name, value)
    return pika.BlockingConnection(parameters)


def declare_and_bind(channel):
    exchange = PREFIX + ".direct"
    queue = PREFIX + ".q"
    channel.exchange_declare(exchange=exchange, exchange_type="direct", durable=False, auto_delete=False)
    result = channel.queue_declare(queue=queue, durable=False, arguments={"x-max-length": 1000})
    expect_equal(result.method.queue, queue, "declared queue name")
    expect_equal(result.method.message_count, 0, "fresh queue message count")
    channel.queue_bind(queue=queue, exchange=exchange, routing_key="rk")
    server_named = channel.queue_declare(queue="", exclusive=True)
    expect(server_named.method.queue.startswith("amq.gen-"), "server-named queue: " + server_named.method.queue)
    passive = channel.queue_declare(queue=queue, passive=True)
    expect_equal(passive.method.consumer_count, 0, "passive declare consumer count")
    ok("declare")
    return exchange, queue


def publish_with_properties(channel, exchange, queue):
    properties = pika.BasicProperties(
        content_type="application/json",
        content_encoding="utf-8",
        headers=HEADERS,
        delivery_mode=2,
        priority=5,
        correlation_id="corr-1",
        reply_to="reply-queue",
        expiration="60000",
        message_id="msg-1",
        timestamp=1700000000,
        type="compat.test",
        user_id="guest",
        app_id="pika-compat",
    )
    body = '{"hello": "world"}'.encode()
    channel.basic_publish(exchange=exchange, routing_key="rk", body=body, properties=properties)
    method, got, got_body = get_one(channel, queue)
    expect_equal(got_body, body, "body")
    expect_equal(method.redelivered, False, "redelivered")
    expect_equal(method.exchange, exchange, "exchange")
    expect_equal(method.routing_key, "rk", "routing key")
    for name in ("content_type", "content_encoding", "delivery_mode", "priority", "correlation_id", "reply_to",
                 "expiration", "message_id", "timestamp", "type", "user_id", "app_id"):
        expect_equal(getattr(got, name), getattr(properties, name), "property " + name)
    for name, value in HEADERS.items():
        expect(name in got.headers, "header %s missing from %r" % (name, got.headers))
        expect_equal(got.headers[name], value, "header " + name)
    expect_equal(type(got.headers["bool-true"]), bool, "bool header type")
    channel.basic_ack(method.delivery_tag)
    ok("properties-and-headers", len(HEADERS))


def get_one(channel, queue, attempts=50):
    """basic_get until a message arrives (publishes are asynchronous on the wire)."""
    for _ in range(attempts):
        method, properties, body = channel.basic_get(queue=queue, auto_ack=False)
        if method is not None:
            return method, properties, body
        time.sleep(0.02)
    raise AssertionError("no message on " + queue)


def basic_get(channel, exchange, queue):
    empty = channel.basic_get(queue=queue, auto_ack=True)
    expect_equal(empty, (None, None, None), "basic_get on an empty queue")
    for index in range(3):
        channel.basic_publish(exchange=exchange, routing_key="rk", body=b"get-%d" % index)
    method, _, body = get_one(channel, queue)
    expect_equal(body, b"get-0", "first basic_get body")
    expect_equal(method.message_count, 2, "message_count after the first get")
    channel.basic_nack(method.delivery_tag, requeue=True)
    method, _, body = get_one(channel, queue)
    expect_equal(body, b"get-0", "requeued message comes back first")
    expect_equal(method.redelivered, True, "requeued message is redelivered")
    channel.basic_ack(method.delivery_tag)
    purged = channel.queue_purge(queue=queue)
    expect_equal(purged.method.message_count, 2, "purged count")
    ok("basic-get")


def consume_with_acks(channel, exchange, queue):
    count = 50
    for index in range(count):
        channel.basic_publish(exchange=exchange, routing_key="rk", body=str(index).encode())
    received = []

    def on_message(ch, method, _properties, body):
        received.append(int(body))
        ch.basic_ack(method.delivery_tag)
        if len(received) == count:
            ch.stop_consuming()

    tag = channel.basic_consume(queue=queue, on_message_callback=on_message, consumer_tag=PREFIX + "-ctag")
    expect_equal(tag, PREFIX + "-ctag", "consumer tag")
    channel.connection.call_later(10, channel.stop_consuming)
    channel.start_consuming()
    expect_equal(received, list(range(count)), "consumed bodies in order")
    channel.basic_cancel(tag)
    expect_equal(channel.queue_declare(queue=queue, passive=True).method.message_count, 0, "queue drained")
    ok("consume-acks", count)


def consume_generator(channel, exchange, queue):
    """BlockingChannel.consume(): the generator API, with multiple ack and inactivity timeout."""
    for index in range(10):
        channel.basic_publish(exchange=exchange, routing_key="rk", body=b"gen-%d" % index)
    bodies = []
    last_tag = None
    for method, _, body in channel.consume(queue, inactivity_timeout=2):
        expect(method is not None, "generator timed out after %d messages" % len(bodies))
        bodies.append(body)
        last_tag = method.delivery_tag
        if len(bodies) == 10:
            break
    channel.basic_ack(last_tag, multiple=True)
    requeued = channel.cancel()
    expect_equal(requeued, 0, "messages requeued by cancel()")
    expect_equal(bodies, [b"gen-%d" % i for i in range(10)], "generator bodies")
    ok("consume-generator")


def qos(connection, exchange, queue):
    channel = connection.channel()
    channel.basic_qos(prefetch_count=3)
    for index in range(10):
        channel.basic_publish(exchange=exchange, routing_key="rk", body=b"qos-%d" % index)
    pending = []
    channel.basic_consume(queue=queue, on_message_callback=lambda ch, m, p, b: pending.append(m.delivery_tag))
    connection.process_data_events(time_limit=0.5)
    expect_equal(len(pending), 3, "deliveries outstanding with prefetch 3")
    channel.basic_ack(pending[-1], multiple=True)
    connection.process_data_events(time_limit=0.5)
    expect_equal(len(pending), 6, "deliveries after acking the first 3")
    channel.close()  # the 3 unacked messages go back to the queue
    leftover = connection.channel()
    expect_equal(leftover.queue_declare(queue=queue, passive=True).method.message_count, 7,
                 "messages back in the queue after close")
    leftover.queue_purge(queue=queue)
    leftover.close()
    ok("basic-qos")


def confirms_and_returns(connection, exchange, queue):
    channel = connection.channel()
    channel.confirm_delivery()
    for index in range(20):
        channel.basic_publish(exchange=exchange, routing_key="rk", body=b"confirmed-%d" % index,
                              properties=pika.BasicProperties(delivery_mode=2), mandatory=True)
    try:
        channel.basic_publish(exchange=exchange, routing_key="nowhere", body=b"lost", mandatory=True)
        raise AssertionError("mandatory publish to no queue did not raise UnroutableError")
    except pika.exceptions.UnroutableError as error:
        expect_equal(len(error.messages), 1, "returned messages")
        returned = error.messages[0]
        expect_equal(returned.method.reply_code, 312, "basic.return reply code")
        expect_equal(returned.method.reply_text, "NO_ROUTE", "basic.return reply text")
        expect_equal(returned.body, b"lost", "returned body")
    # Not mandatory: silently dropped, still confirmed.
    channel.basic_publish(exchange=exchange, routing_key="nowhere", body=b"dropped")
    expect_equal(channel.queue_declare(queue=queue, passive=True).method.message_count, 20, "confirmed messages queued")
    channel.queue_purge(queue=queue)
    channel.close()
    ok("confirms-and-unroutable")


def returns_without_confirms(connection, exchange):
    channel = connection.channel()
    returned = []
    channel.add_on_return_callback(lambda ch, method, props, body: returned.append((method.reply_code, body)))
    channel.basic_publish(exchange=exchange, routing_key="nowhere", body=b"back", mandatory=True)
    deadline = time.monotonic() + 5
    while not returned and time.monotonic() < deadline:
        connection.process_data_events(time_limit=0.1)
    expect_equal(returned, [(312, b"back")], "basic.return without confirms")
    channel.close()
    ok("return-callback")


def channel_error_keeps_connection(connection, queue):
    channel = connection.channel()
    try:
        channel.queue_declare(queue=PREFIX + ".does-not-exist", passive=True)
        raise AssertionError("passive declare of a missing queue succeeded")
    except pika.exceptions.ChannelClosedByBroker as error:
        expect_equal(error.reply_code, 404, "reply code")
        expect(error.reply_text.startswith("NOT_FOUND - no queue"), "reply text: " + error.reply_text)
    expect(channel.is_closed, "channel closed after 404")
    channel = connection.channel()
    try:
        channel.basic_ack(delivery_tag=999)
        channel.queue_declare(queue=queue, passive=True)  # a round trip so the error arrives
        raise AssertionError("ack of an unknown delivery tag was accepted")
    except pika.exceptions.ChannelClosedByBroker as error:
        expect_equal(error.reply_code, 406, "unknown delivery tag reply code")
    expect(connection.is_open, "connection survived the channel errors")
    channel = connection.channel()
    expect_equal(channel.queue_declare(queue=queue, passive=True).method.queue, queue, "new channel works")
    channel.close()
    ok("channel-error-404")


def recover_and_cancel_notify(connection, exchange, queue):
    channel = connection.channel()
    channel.basic_publish(exchange=exchange, routing_key="rk", body=b"recover-me")
    method, _, _ = get_one(channel, queue)
    channel.basic_recover(requeue=True)
    method, _, body = get_one(channel, queue)
    expect_equal((body, method.redelivered), (b"recover-me", True), "message after basic.recover")
    channel.basic_ack(method.delivery_tag)
    doomed = channel.queue_declare(queue=PREFIX + ".doomed").method.queue
    cancelled = []
    channel.add_on_cancel_callback(lambda frame: cancelled.append(frame.method.consumer_tag))
    tag = channel.basic_consume(queue=doomed, on_message_callback=lambda *args: None, auto_ack=True)
    other = connection.channel()
    other.queue_delete(queue=doomed)
    other.close()
    deadline = time.monotonic() + 5
    while not cancelled and time.monotonic() < deadline:
        connection.process_data_events(time_limit=0.1)
    expect_equal(cancelled, [tag], "basic.cancel from the broker when the consumed queue is deleted")
    channel.close()
    ok("recover-and-cancel-notify")


def exchange_kinds(channel):
    """topic, fanout and headers exchanges plus exchange-to-exchange bindings."""
    topic = PREFIX + ".topic"
    fanout = PREFIX + ".fanout"
    headers = PREFIX + ".headers"
    channel.exchange_declare(exchange=topic, exchange_type="topic")
    channel.exchange_declare(exchange=fanout, exchange_type="fanout")
    channel.exchange_declare(exchange=headers, exchange_type="headers")
    channel.exchange_bind(destination=fanout, source=topic, routing_key="logs.#")
    q_topic = channel.queue_declare(queue="", exclusive=True).method.queue
    q_fanout = channel.queue_declare(queue="", exclusive=True).method.queue
    q_headers = channel.queue_declare(queue="", exclusive=True).method.queue
    channel.queue_bind(queue=q_topic, exchange=topic, routing_key="*.error")
    channel.queue_bind(queue=q_fanout, exchange=fanout)
    channel.queue_bind(queue=q_headers, exchange=headers, arguments={"x-match": "all", "kind": "a", "level": 2})
    channel.basic_publish(exchange=topic, routing_key="logs.error", body=b"t1")
    channel.basic_publish(exchange=topic, routing_key="app.error", body=b"t2")
    channel.basic_publish(exchange=headers, routing_key="", body=b"h1",
                          properties=pika.BasicProperties(headers={"kind": "a", "level": 2}))
    channel.basic_publish(exchange=headers, routing_key="", body=b"h2",
                          properties=pika.BasicProperties(headers={"kind": "a"}))
    expect_equal(drain(channel, q_topic), [b"t1", b"t2"], "topic queue")
    expect_equal(drain(channel, q_fanout), [b"t1"], "fanout via exchange binding")
    expect_equal(drain(channel, q_headers), [b"h1"], "headers x-match all")
    channel.exchange_unbind(destination=fanout, source=topic, routing_key="logs.#")
    for name in (topic, fanout, headers):
        channel.exchange_delete(exchange=name)
    ok("exchange-types")


def drain(channel, queue):
    time.sleep(0.05)
    bodies = []
    while True:
        method, _, body = channel.basic_get(queue=queue, auto_ack=True)
        if method is None:
            return bodies
        bodies.append(body)


def transactions(channel, exchange, queue):
    channel.tx_select()
    channel.basic_publish(exchange=exchange, routing_key="rk", body=b"rolled-back")
    channel.tx_rollback()
    channel.basic_publish(exchange=exchange, routing_key="rk", body=b"committed")
    channel.tx_commit()
    expect_equal(drain(channel, queue), [b"committed"], "tx commit/rollback")
    ok("tx")


def refused_connections():
    """pika names the failure by the handshake stage the close arrives in, so Warren must close where RabbitMQ does."""
    base = pika.URLParameters(URL)
    wrong_password = pika.ConnectionParameters(host=base.host, port=base.port, credentials=pika.PlainCredentials("guest", "wrong"))
    try:
        pika.BlockingConnection(wrong_password)
        raise AssertionError("login with a wrong password succeeded")
    except pika.exceptions.ProbableAuthenticationError as error:
        expect("403" in str(error) and "ACCESS_REFUSED" in str(error), "auth error: %s" % error)
    missing_vhost = pika.ConnectionParameters(host=base.host, port=base.port, virtual_host="no-such-vhost",
                                              credentials=base.credentials)
    try:
        pika.BlockingConnection(missing_vhost)
        raise AssertionError("connecting to a missing vhost succeeded")
    except pika.exceptions.ProbableAccessDeniedError as error:
        expect("530" in str(error) and "NOT_ALLOWED - vhost no-such-vhost not found" in str(error), "vhost error: %s" % error)
    ok("refused-connections")


def heartbeats():
    """heartbeat=1: pika drops the connection if it hears nothing from Warren for two intervals."""
    connection = connect(heartbeat=1)
    channel = connection.channel()
    connection.sleep(3.5)  # serves heartbeats both ways while idle
    # Warren drops a peer silent for two intervals, so being open proves it understood pika's heartbeats;
    # pika's own check only runs every timeout + 5 s, so count Warren's heartbeat frames directly.
    expect(connection.is_open, "connection open after idling past several heartbeat intervals")
    received = connection._impl._heartbeat_checker._heartbeat_frames_received
    expect(received >= 2, "heartbeat frames received from Warren in 3.5 s: %d" % received)
    channel.queue_declare(queue="", exclusive=True)
    connection.close()
    ok("heartbeat", received)


def main():
    connection = connect()
    server = connection._impl.server_properties
    expect(b"publisher_confirms" in server.get("capabilities", {}) or "publisher_confirms" in server.get("capabilities", {}),
           "server capabilities: %r" % (server,))
    channel = connection.channel()
    exchange, queue = declare_and_bind(channel)
    publish_with_properties(channel, exchange, queue)
    basic_get(channel, exchange, queue)
    consume_with_acks(channel, exchange, queue)
    consume_generator(channel, exchange, queue)
    qos(connection, exchange, queue)
    confirms_and_returns(connection, exchange, queue)
    returns_without_confirms(connection, exchange)
    channel_error_keeps_connection(connection, queue)
    recover_and_cancel_notify(connection, exchange, queue)
    channel = connection.channel()
    exchange_kinds(channel)
    transactions(channel, exchange, queue)
    channel.queue_delete(queue=queue)
    channel.exchange_delete(exchange=exchange)
    connection.close()
    ok("close")
    refused_connections()
    heartbeats()


if __name__ == "__main__":
    main()
