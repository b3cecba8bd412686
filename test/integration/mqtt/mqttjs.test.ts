/** MQTT.js (the `mqtt` npm package), 3.1.1 and 5.0, against Warren's MQTT door. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor, sleep } from '../../helpers/wait.js';
import { connectMqtt, endMqtt, inbox, startMqttBroker, type MqttTestBroker } from './helpers.js';

let broker: MqttTestBroker;
before(async () => {
  broker = await startMqttBroker();
});
after(async () => {
  await broker.close();
});

for (const protocolVersion of [4, 5] as const) {
  test(`MQTT ${protocolVersion === 4 ? '3.1.1' : '5.0'}: QoS 0, 1 and 2 publish reach a wildcard subscriber`, async () => {
    const sub = await connectMqtt(broker.mqttUrl, { protocolVersion, clientId: `sub-${protocolVersion}` });
    const pub = await connectMqtt(broker.mqttUrl, { protocolVersion, username: 'guest', password: 'guest' });
    const got = inbox(sub);
    const granted = await sub.subscribeAsync(['sensors/+/temp', 'alerts/#'], { qos: 2 });
    assert.deepEqual(granted.map((g) => g.qos), [2, 2]);
    await pub.publishAsync('sensors/kitchen/temp', '21.5', { qos: 0 });
    await pub.publishAsync('sensors/hall/temp', '19', { qos: 1 });
    await pub.publishAsync('alerts/fire/floor/2', 'run', { qos: 2 });
    await pub.publishAsync('sensors/hall/humidity', 'ignored', { qos: 1 });
    await waitFor(() => got.length >= 3, 'three messages');
    await sleep(50);
    assert.deepEqual(got.map((m) => [m.topic, m.payload, m.packet.qos]).sort(), [
      ['alerts/fire/floor/2', 'run', 2],
      ['sensors/hall/temp', '19', 1],
      ['sensors/kitchen/temp', '21.5', 0],
    ]);
    await endMqtt(sub);
    await endMqtt(pub);
  });
}
