"""Stream queues through Debian's pika: timestamp and interval offsets, single active consumer by name.
Prints `ok <step>` per step; any failure raises (non-zero exit with pika's traceback)."""
import datetime
import sys
import time

import pika

url = sys.argv[1]
conn = pika.BlockingConnection(pika.URLParameters(url))
ch = conn.channel()
ch.queue_declare('pika-stream', durable=True, arguments={'x-queue-type': 'stream'})
for i in range(3):
    ch.basic_publish('', 'pika-stream', b'old-%d' % i)
time.sleep(1.2)
between = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
time.sleep(1.1)
for i in range(3):
    ch.basic_publish('', 'pika-stream', b'new-%d' % i)
time.sleep(0.2)


def take(channel, queue, count, arguments):
    got = []
    for method, properties, body in channel.consume(queue, arguments=arguments, inactivity_timeout=5):
        assert method is not None, 'timed out after %d of %d' % (len(got), count)
        got.append((properties.headers['x-stream-offset'], body))
        channel.basic_ack(method.delivery_tag)
        if len(got) == count:
            break
    channel.cancel()
    return got


ch.basic_qos(prefetch_count=10)
since = take(ch, 'pika-stream', 3, {'x-stream-offset': between})
assert [b for _, b in since] == [b'new-0', b'new-1', b'new-2'], since
assert [o for o, _ in since] == [3, 4, 5], since
print('ok timestamp-offset', flush=True)
hour = take(ch, 'pika-stream', 6, {'x-stream-offset': '1h'})
assert [o for o, _ in hour] == [0, 1, 2, 3, 4, 5], hour
print('ok interval-offset', flush=True)

# Single active consumer: two consumers named 'app'; only the first gets messages; when it is cancelled
# the second takes over after the last offset the first acked.
ch.queue_declare('pika-sac', durable=True, arguments={'x-queue-type': 'stream', 'x-single-active-consumer': True})
for i in range(10):
    ch.basic_publish('', 'pika-sac', b'%d' % i)
first = conn.channel()
first.basic_qos(prefetch_count=1)
second = conn.channel()
second.basic_qos(prefetch_count=1)
named = {'x-stream-offset': 'first', 'x-stream-consumer-name': 'app'}
seen_first, seen_second = [], []


def on_first(channel, method, properties, body):
    seen_first.append(int(body))
    if len(seen_first) <= 4:
        channel.basic_ack(method.delivery_tag)


def on_second(channel, method, properties, body):
    seen_second.append(int(body))
    channel.basic_ack(method.delivery_tag)


def pump(seconds, until=lambda: False):
    # process_data_events returns once it dispatched something: loop for the whole time.
    deadline = time.time() + seconds
    while time.time() < deadline and not until():
        conn.process_data_events(time_limit=0.1)


tag1 = first.basic_consume('pika-sac', on_first, arguments=named)
second.basic_consume('pika-sac', on_second, arguments=named)
pump(1)
assert seen_first == [0, 1, 2, 3, 4], seen_first
assert seen_second == [], seen_second
print('ok single-active', flush=True)
first.basic_cancel(tag1)
pump(5, lambda: len(seen_second) >= 6)
assert seen_second == [4, 5, 6, 7, 8, 9], seen_second
print('ok take-over', flush=True)
conn.close()
