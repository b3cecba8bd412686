"""stomp.py (Debian python3-stomp) against Warren's STOMP port: one run per protocol version.

Usage: stomp_client.py PORT VERSION QUEUE [CA_FILE]   (with CA_FILE: over TLS, verifying the server)
Prints one JSON line with what it saw.
"""
import json
import sys
import threading

import stomp

port, version, queue = int(sys.argv[1]), sys.argv[2], sys.argv[3]
classes = {'1.0': stomp.Connection10, '1.1': stomp.Connection11, '1.2': stomp.Connection12}


class Listener(stomp.ConnectionListener):
    def __init__(self):
        self.messages = []
        self.errors = []
        self.got = threading.Event()

    def on_message(self, frame):
        self.messages.append({'body': frame.body, 'headers': dict(frame.headers)})
        if len(self.messages) >= 2:
            self.got.set()

    def on_error(self, frame):
        self.errors.append(frame.body)
        self.got.set()


conn = classes[version]([('127.0.0.1', port)], **({} if version == '1.0' else {'vhost': '/'}))
if len(sys.argv) > 4:
    conn.set_ssl(for_hosts=[('127.0.0.1', port)], ca_certs=sys.argv[4])
listener = Listener()
conn.set_listener('', listener)
conn.connect('guest', 'guest', wait=True)
dest = '/queue/' + queue
conn.subscribe(destination=dest, id='s1', ack='client')
conn.send(destination=dest, body='first', headers={'x-version': version, 'persistent': 'true'}, receipt='r1')
conn.send(destination=dest, body='second:with colon')
listener.got.wait(5)
last = listener.messages[-1] if listener.messages else None
if last is not None:
    # ack:client is cumulative: acking the second settles both.
    if version == '1.2':
        conn.ack(last['headers']['ack'])
    elif version == '1.1':
        conn.ack(last['headers']['message-id'], 's1')
    else:
        conn.ack(last['headers']['message-id'])
conn.disconnect(receipt='bye')
print(json.dumps({'messages': listener.messages, 'errors': listener.errors}))
