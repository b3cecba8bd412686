"""One kafka-python 2.0 consumer group member (Debian's python3-kafka), for groups-kafka-python.test.ts.

Usage: groups_member.py BOOTSTRAP TOPIC GROUP CLIENT_ID

Prints one line per event: "assigned P,P", "msg P OFFSET VALUE", "commit P OFFSET". Commits
synchronously after every poll that returned records. SIGTERM closes the consumer (LeaveGroup) and exits.
"""
import signal
import sys

from kafka import KafkaConsumer
from kafka.consumer.subscription_state import ConsumerRebalanceListener

bootstrap, topic, group, client_id = sys.argv[1:5]
stopping = False


def stop(signum, frame):
    global stopping
    stopping = True


signal.signal(signal.SIGTERM, stop)


class Listener(ConsumerRebalanceListener):
    def on_partitions_revoked(self, revoked):
        pass

    def on_partitions_assigned(self, assigned):
        print('assigned ' + ','.join(str(tp.partition) for tp in sorted(assigned)), flush=True)


consumer = KafkaConsumer(
    bootstrap_servers=bootstrap,
    group_id=group,
    client_id=client_id,
    auto_offset_reset='earliest',
    enable_auto_commit=False,
    session_timeout_ms=3000,
    heartbeat_interval_ms=300,
    fetch_max_wait_ms=100,
    metadata_max_age_ms=1000,
)
consumer.subscribe([topic], listener=Listener())
while not stopping:
    batches = consumer.poll(timeout_ms=200)
    if not batches:
        continue
    for tp, records in sorted(batches.items()):
        for record in records:
            print('msg %d %d %s' % (tp.partition, record.offset, record.value.decode()), flush=True)
    consumer.commit()
    for tp in sorted(batches):
        print('commit %d %d' % (tp.partition, batches[tp][-1].offset + 1), flush=True)
consumer.close()
