/** Debian's mosquitto-clients (mosquitto_pub / mosquitto_sub) and python3-paho-mqtt against Warren's MQTT door. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { connectMqtt, endMqtt, inbox, startMqttBroker, type MqttTestBroker } from './helpers.js';
import { waitFor } from '../../helpers/wait.js';

const run = promisify(execFile);
const hasMosquitto = existsSync('/usr/bin/mosquitto_pub') && existsSync('/usr/bin/mosquitto_sub');
const hasPaho = (() => {
  try {
    return existsSync('/usr/bin/python3') && existsSync('/usr/lib/python3/dist-packages/paho/mqtt/client.py');
  } catch {
    return false;
  }
})();
const skipMosquitto = hasMosquitto ? false : 'mosquitto-clients is not installed (apt-get install mosquitto-clients)';
const skipPaho = hasPaho ? false : 'python3-paho-mqtt is not installed (apt-get install python3-paho-mqtt)';

let broker: MqttTestBroker;
before(async () => {
  broker = await startMqttBroker();
});
after(async () => {
  await broker.close();
});

/** Starts mosquitto_sub; resolves with its output once it exits (its stdout is a pipe, so only then is it flushed). */
function mosquittoSub(filter: string, args: string[]): { ready: Promise<void>; output: Promise<string> } {
  const child = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(broker.mqttPort), '-t', filter, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const timer = setTimeout(() => child.kill(), 10_000);
  const output = new Promise<string>((resolve) => child.once('close', () => {
    clearTimeout(timer);
    resolve(out);
  }));
  // Subscribed once the broker holds the subscription.
  const ready = waitFor(() => [...broker.mqtt.sessions.all()].some((s) => s.subscriptions.has(filter)), `mosquitto_sub subscribed to ${filter}`);
  return { ready, output };
}

for (const version of ['mqttv311', 'mqttv5'] as const) {
  test(`mosquitto_pub -> mosquitto_sub (${version}): QoS 0/1/2 through a wildcard`, { skip: skipMosquitto }, async () => {
    const sub = mosquittoSub(`mosq/${version}/#`, ['-V', version, '-q', '2', '-C', '3', '-v']);
    await sub.ready;
    for (const qos of ['0', '1', '2']) {
      await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.mqttPort), '-V', version, '-t', `mosq/${version}/q${qos}`, '-q', qos, '-m', `hello ${qos}`]);
    }
    const lines = (await sub.output).split('\n').filter((l) => l.startsWith(`mosq/${version}/`));
    assert.deepEqual(lines.sort(), [`mosq/${version}/q0 hello 0`, `mosq/${version}/q1 hello 1`, `mosq/${version}/q2 hello 2`]);
  });
}

test('mosquitto_pub with a retained message and credentials; MQTT.js gets it on subscribe', { skip: skipMosquitto }, async () => {
  await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.mqttPort), '-V', 'mqttv5', '-u', 'guest', '-P', 'guest', '-t', 'mosq/retained', '-r', '-q', '1', '-m', 'stay']);
  const client = await connectMqtt(broker.mqttUrl, { protocolVersion: 5 });
  const got = inbox(client);
  await client.subscribeAsync('mosq/retained', { qos: 1 });
  await waitFor(() => got.length >= 1, 'retained message');
  assert.deepEqual([got[0]!.payload, got[0]!.packet.retain], ['stay', true]);
  await endMqtt(client);
  await assert.rejects(run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(broker.mqttPort), '-u', 'guest', '-P', 'nope', '-t', 'x', '-m', 'y']), /not authori[sz]ed|bad user name or password|Connection Refused/i);
});

const PAHO_SCRIPT = String.raw`
import sys, threading, paho.mqtt.client as mqtt
port = int(sys.argv[1]); version = mqtt.MQTTv5 if sys.argv[2] == '5' else mqtt.MQTTv311
done = threading.Event(); got = []
def on_message(client, userdata, msg):
    got.append((msg.topic, msg.payload.decode(), msg.qos))
    if len(got) == 2: done.set()
sub = mqtt.Client(client_id='paho-sub-' + sys.argv[2], protocol=version)
sub.on_message = on_message
sub.connect('127.0.0.1', port)
sub.loop_start()
subscribed = threading.Event()
sub.on_subscribe = lambda *a: subscribed.set()
sub.subscribe('paho/#', qos=1)
subscribed.wait(5)
pub = mqtt.Client(client_id='paho-pub-' + sys.argv[2], protocol=version)
pub.username_pw_set('guest', 'guest')
pub.connect('127.0.0.1', port)
pub.loop_start()
pub.publish('paho/a', 'one', qos=1).wait_for_publish()
pub.publish('paho/b/c', 'two', qos=2).wait_for_publish()
ok = done.wait(5)
pub.loop_stop(); sub.loop_stop(); pub.disconnect(); sub.disconnect()
print(sorted(got))
sys.exit(0 if ok else 1)
`;

for (const version of ['4', '5'] as const) {
  test(`paho-mqtt (MQTT ${version === '4' ? '3.1.1' : '5.0'}): QoS 1 and 2 publish and subscribe`, { skip: skipPaho }, async () => {
    const { stdout } = await run('/usr/bin/python3', ['-c', PAHO_SCRIPT, String(broker.mqttPort), version], { timeout: 15_000 });
    // Subscribed at QoS 1: the QoS 2 publish is delivered at QoS 1 (3.8.4: the minimum of the two).
    assert.equal(stdout.trim(), "[('paho/a', 'one', 1), ('paho/b/c', 'two', 1)]");
  });
}
