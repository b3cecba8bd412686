"""kafka-python 2.0 (Debian's python3-kafka) against Warren's Kafka door: one scenario, printed as JSON.

Usage: client.py BOOTSTRAP TOPIC
"""
import json
import sys
import time

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

bootstrap, topic = sys.argv[1], sys.argv[2]
out = {}

admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id='py-admin')
admin.create_topics([NewTopic(name=topic, num_partitions=1, replication_factor=1)])
try:
    admin.create_topics([NewTopic(name=topic, num_partitions=1, replication_factor=1)])
    out['duplicate'] = 'created twice'
except TopicAlreadyExistsError:
    out['duplicate'] = 'TopicAlreadyExistsError'
out['topics'] = sorted(t for t in admin.list_topics() if t == topic)

producer = KafkaProducer(bootstrap_servers=bootstrap, acks='all', client_id='py-producer')
base = int(time.time() * 1000) - 60_000
for i in range(5):
    producer.send(topic, key=b'key-%d' % i, value=b'value-%d' % i, headers=[('i', str(i).encode())], timestamp_ms=base + i * 1000)
producer.flush()
out['producer_version'] = list(producer.config['api_version'])
producer.close()

tp = TopicPartition(topic, 0)
consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, consumer_timeout_ms=3000, client_id='py-consumer')
consumer.assign([tp])
consumer.seek_to_beginning(tp)
got = []
deadline = time.time() + 10
while len(got) < 5 and time.time() < deadline:
    for batch in consumer.poll(timeout_ms=1000).values():
        got.extend(batch)
got.sort(key=lambda r: r.offset)
out['earliest'] = [[r.offset, r.key.decode(), r.value.decode(), [[k, v.decode()] for k, v in r.headers], r.timestamp] for r in got]
out['base'] = base

consumer.seek(tp, 3)
from_offset = []
deadline = time.time() + 10
while len(from_offset) < 2 and time.time() < deadline:
    for batch in consumer.poll(timeout_ms=1000).values():
        from_offset.extend(r.offset for r in batch)
out['from_offset_3'] = sorted(from_offset)

out['offsets_for_times'] = {str(k.partition): [v.offset, v.timestamp] for k, v in consumer.offsets_for_times({tp: base + 2500}).items()}
out['beginning'] = consumer.beginning_offsets([tp])[tp]
out['end'] = consumer.end_offsets([tp])[tp]
consumer.seek_to_end(tp)
out['position_at_end'] = consumer.position(tp)
consumer.close()
admin.delete_topics([topic])
out['after_delete'] = [t for t in admin.list_topics() if t == topic]
admin.close()
print(json.dumps(out))
