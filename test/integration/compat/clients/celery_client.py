"""Sends tasks to a running Celery worker through Warren and checks the results that come back.

Usage: celery_client.py <amqp-url>. Prints `ok <step>` per passed step; any failure raises.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "celery_app"))
os.environ["COMPAT_BROKER_URL"] = sys.argv[1]

from celery import chain, group  # noqa: E402

from compat_check import expect, expect_equal, ok  # noqa: E402
import tasks  # noqa: E402

TIMEOUT = 20


def main():
    result = tasks.add.delay(2, 3)
    expect_equal(result.get(timeout=TIMEOUT), 5, "add.delay(2, 3)")
    expect_equal(result.state, "SUCCESS", "task state")
    ok("delay", result.id)

    results = [tasks.add.apply_async((index, index), priority=index % 3) for index in range(20)]
    expect_equal([r.get(timeout=TIMEOUT) for r in results], [2 * i for i in range(20)], "20 apply_async results")
    ok("apply-async", len(results))

    for value in ("text \u00e9", 12345678901, 2.5, [1, "two"], {"nested": {"k": None}}):
        echoed = tasks.describe.delay(value).get(timeout=TIMEOUT)
        expect_equal(echoed["value"], value, "value through the worker")
    ok("payload-types")

    try:
        tasks.fail.delay("boom").get(timeout=TIMEOUT)
        raise AssertionError("a failing task returned a result")
    except ValueError as error:
        expect_equal(str(error), "boom", "propagated exception text")
    ok("failure")

    expect_equal(tasks.flaky.delay(2).get(timeout=TIMEOUT), 2, "retries before success")
    ok("retry")

    countdown = tasks.add.apply_async((40, 2), countdown=1)
    expect_equal(countdown.get(timeout=TIMEOUT), 42, "countdown task")
    ok("countdown")

    grouped = group(tasks.add.s(i, 1) for i in range(5))().get(timeout=TIMEOUT)
    expect_equal(grouped, [1, 2, 3, 4, 5], "group results")
    ok("group")

    # The worker itself publishes each next step of a chain.
    chained = chain(tasks.add.s(1, 2), tasks.add.s(10), tasks.add.s(100))().get(timeout=TIMEOUT)
    expect_equal(chained, 113, "chain result")
    ok("chain")

    replies = tasks.app.control.ping(timeout=2)
    expect(len(replies) == 1, "control.ping replies (broadcast over a fanout exchange): %r" % (replies,))
    ok("control-ping")


if __name__ == "__main__":
    main()
