"""pika and connection.blocked / connection.unblocked (resource alarms), steered by the node test.

Usage: pika_blocked.py <amqp-url>. Prints `ok ready`, then publishes a message every 50 ms until the
test raises an alarm: as in RabbitMQ, Warren sends connection.blocked at the next publish after the
alarm and stops reading the socket. Prints `ok blocked <reason>`, publishes once more (held), waits for
the test to clear the alarm, then checks that every message arrived: `ok unblocked <count>`.
"""
import time
import uuid

import pika

from compat_check import broker_url, expect, expect_equal, ok

events = []


def wait_for(connection, predicate, what, seconds=10):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        connection.process_data_events(time_limit=0.05)


def main():
    parameters = pika.URLParameters(broker_url())
    parameters.blocked_connection_timeout = 30
    connection = pika.BlockingConnection(parameters)
    connection.add_on_connection_blocked_callback(lambda conn, frame: events.append(("blocked", frame.method.reason)))
    connection.add_on_connection_unblocked_callback(lambda conn, frame: events.append(("unblocked", None)))
    channel = connection.channel()
    queue = channel.queue_declare(queue="blocked-" + uuid.uuid4().hex[:8], exclusive=True).method.queue
    ok("ready")
    published = 0
    deadline = time.monotonic() + 10
    while not events:
        expect(time.monotonic() < deadline, "timed out waiting for connection.blocked")
        channel.basic_publish(exchange="", routing_key=queue, body=b"m%d" % published)
        published += 1
        connection.process_data_events(time_limit=0.05)
    expect_equal(events[0][0], "blocked", "first event")
    ok("blocked", events[0][1])
    channel.basic_publish(exchange="", routing_key=queue, body=b"while blocked")
    published += 1
    wait_for(connection, lambda: len(events) >= 2, "connection.unblocked")
    expect_equal(events[1], ("unblocked", None), "second event")
    deadline = time.monotonic() + 5
    while channel.queue_declare(queue=queue, passive=True).method.message_count != published:
        expect(time.monotonic() < deadline, "messages published around the alarm never all arrived")
        connection.process_data_events(time_limit=0.05)
    ok("unblocked", published)
    connection.close()


if __name__ == "__main__":
    main()
