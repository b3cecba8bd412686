/**
 * MQTT over WebSocket (MQTT 5.0 ch. 6) at `/mqtt` on the management HTTP server: upgrades for that
 * path (subprotocol "mqtt", or the old "mqttv3.1") are handed to the MQTT listener; other paths are
 * left to other handlers.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { TLSSocket } from 'node:tls';
import { WebSocketServer } from 'ws';
import type { MqttListener } from './server.js';
import { webSocketTransport } from './transport.js';

export const MQTT_WEBSOCKET_PATH = '/mqtt';

/** Serves `/mqtt` upgrades of `http` with `listener`; returns a function that detaches it. */
export function attachMqttWebSocket(http: HttpServer, listener: MqttListener): () => void {
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has('mqtt') ? 'mqtt' : protocols.has('mqttv3.1') ? 'mqttv3.1' : false),
  });
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const path = (request.url ?? '').split('?')[0];
    if (path !== MQTT_WEBSOCKET_PATH) return;
    wss.handleUpgrade(request, socket, head, (ws) => {
      const raw = request.socket;
      listener.accept(webSocketTransport(ws, raw.remoteAddress ?? '', raw.remotePort ?? 0, raw instanceof TLSSocket));
    });
  };
  http.on('upgrade', onUpgrade);
  return () => {
    http.off('upgrade', onUpgrade);
    for (const client of wss.clients) client.terminate();
    wss.close();
  };
}
