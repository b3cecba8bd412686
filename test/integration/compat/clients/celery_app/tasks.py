"""The Celery app both the worker and the sender import; the broker URL comes from COMPAT_BROKER_URL.

Results travel back through the rpc:// backend (a reply queue per client, fed through the default
exchange), so a passing round trip exercises both directions through Warren.
"""
import os

from celery import Celery

app = Celery("tasks", broker=os.environ["COMPAT_BROKER_URL"], backend="rpc://")
app.conf.update(
    broker_connection_retry_on_startup=False,
    broker_connection_max_retries=0,
    broker_heartbeat=10,
    task_acks_late=True,
    result_expires=60,
    worker_prefetch_multiplier=4,
    worker_hijack_root_logger=False,
)


@app.task
def add(x, y):
    return x + y


@app.task
def describe(value):
    """Echoes what the worker decoded, so types crossing the broker are checked both ways."""
    return {"type": type(value).__name__, "value": value}


@app.task
def fail(message):
    raise ValueError(message)


@app.task(bind=True, max_retries=2, default_retry_delay=0.1)
def flaky(self, succeed_on):
    if self.request.retries < succeed_on:
        raise self.retry()
    return self.request.retries
