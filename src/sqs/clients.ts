import type { Socket } from 'node:net';
import type { ChannelInfo, ConnectionInfo, ConnectionView } from '../session/views.js';

/** A client unseen for this long, with no socket open, leaves the list. */
export const CLIENT_IDLE_MS = 5 * 60 * 1000;
/** At most this many rows; the longest unseen go first (an address scan cannot grow the list without bound). */
export const MAX_CLIENTS = 10_000;

/** What one authenticated request tells of its client. */
export interface ClientSighting {
  accessKeyId: string;
  user: string;
  vhost: string;
  address: string;
  port: number;
  socket: Socket;
  userAgent: string | undefined;
  bytesIn: number;
  tls: boolean;
}

/**
 * One SQS client as /api/connections shows it. SQS is plain HTTP: a client's keep-alive sockets come
 * and go (the SDKs open several and drop idle ones), so a socket is no useful unit. A row is one client
 * identity instead, the access key plus the source address, with its request count and when it was
 * last seen; it stays while a socket of it is open or for 5 minutes after its last request. It is
 * also the SessionOwner of the ReceiveMessage consumers it makes, so /api/consumers names it.
 */
export class SqsClientRow implements ConnectionView {
  readonly name: string;
  readonly connectedAt = Date.now();
  lastSeenAt = this.connectedAt;
  requests = 0;
  bytesIn = 0;
  bytesOut = 0;
  peerPort = 0;
  userAgent: string | undefined;
  readonly sockets = new Set<Socket>();

  constructor(
    readonly accessKeyId: string,
    readonly user: string,
    readonly vhost: string,
    readonly address: string,
    readonly tls: boolean,
    private readonly forget: (row: SqsClientRow) => void,
  ) {
    this.name = `${address} -> sqs (${accessKeyId})`;
  }

  info(): ConnectionInfo {
    return {
      name: this.name,
      protocol: 'SQS',
      peerHost: this.address,
      peerPort: this.peerPort,
      user: this.user,
      vhost: this.vhost,
      state: this.sockets.size > 0 ? 'running' : 'idle',
      channels: 0,
      clientProperties: {
        access_key_id: this.accessKeyId,
        ...(this.userAgent === undefined ? {} : { user_agent: this.userAgent }),
        open_sockets: this.sockets.size,
      },
      connectedAt: this.connectedAt,
      bytesIn: this.bytesIn,
      bytesOut: this.bytesOut,
      frameMax: 0,
      channelMax: 0,
      heartbeat: 0,
      tls: this.tls,
      authMechanism: 'AWS4-HMAC-SHA256',
      requests: this.requests,
      lastSeenAt: this.lastSeenAt,
    };
  }

  channels(): ChannelInfo[] {
    return [];
  }

  /** Closes its open sockets (waiting long polls end) and drops the row; the client may come back. */
  forceClose(_reason: string): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.forget(this);
    return Promise.resolve();
  }
}

/** The door's client rows, by access key and source address. */
export class SqsClients {
  private readonly rows = new Map<string, SqsClientRow>();

  /** Counts one authenticated request; returns its client's row. */
  seen(sighting: ClientSighting): SqsClientRow {
    const id = `${sighting.accessKeyId}\n${sighting.address}`;
    let row = this.rows.get(id);
    if (row === undefined) {
      if (this.rows.size >= MAX_CLIENTS) this.prune(Date.now(), true);
      row = new SqsClientRow(sighting.accessKeyId, sighting.user, sighting.vhost, sighting.address, sighting.tls, (r) => {
        if (this.rows.get(id) === r) this.rows.delete(id);
      });
      this.rows.set(id, row);
    }
    row.requests++;
    row.lastSeenAt = Date.now();
    row.bytesIn += sighting.bytesIn;
    row.peerPort = sighting.port;
    if (sighting.userAgent !== undefined) row.userAgent = sighting.userAgent;
    if (!row.sockets.has(sighting.socket)) {
      const owner = row;
      owner.sockets.add(sighting.socket);
      sighting.socket.once('close', () => owner.sockets.delete(sighting.socket));
    }
    return row;
  }

  list(now = Date.now()): SqsClientRow[] {
    this.prune(now, false);
    return [...this.rows.values()];
  }

  /** Drops rows idle past CLIENT_IDLE_MS; when full, also the longest unseen tenth. */
  private prune(now: number, full: boolean): void {
    for (const [id, row] of this.rows) {
      if (row.sockets.size === 0 && now - row.lastSeenAt > CLIENT_IDLE_MS) this.rows.delete(id);
    }
    if (!full || this.rows.size < MAX_CLIENTS) return;
    const oldest = [...this.rows].sort((a, b) => a[1].lastSeenAt - b[1].lastSeenAt).slice(0, Math.ceil(MAX_CLIENTS / 10));
    for (const [id] of oldest) this.rows.delete(id);
  }
}
