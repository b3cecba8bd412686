"""Shared by the compat client scripts: every check prints one line the node test asserts on.

A script runs its steps in order; each step either prints `ok <name>` or raises, which ends the script
with a traceback and a non-zero exit code, so the node test fails with the client's own words.
"""
import sys


def ok(name, detail=None):
    """Reports a passed step; detail is printed for the test log (and asserted on where the test says)."""
    line = "ok " + name if detail is None else "ok %s %s" % (name, detail)
    print(line, flush=True)


def expect(condition, message):
    if not condition:
        raise AssertionError(message)


def expect_equal(actual, expected, what):
    if actual != expected:
        raise AssertionError("%s: expected %r, got %r" % (what, expected, actual))


def broker_url():
    if len(sys.argv) < 2:
        raise SystemExit("usage: %s <amqp-url>" % sys.argv[0])
    return sys.argv[1]
