import { connect } from 'node:net';
import type { Logger } from 'pino';
import type { MessageHeaderCodec } from '../../broker/persistence/message-header.js';
import { LinkConnection, type PeerIdentity } from './connection.js';
import { OwnerLink } from './owner-link.js';

/** A peer as membership knows it. */
export interface PeerAddress {
  readonly name: string;
  readonly incarnation: number;
  readonly host: string;
  readonly linkPort: number;
}

export interface LinkDirectoryEvents {
  /** A link to `peer` is up (again): queues owned there resubscribe. */
  up(peer: PeerAddress, link: OwnerLink): void;
  /** The link to `peer` broke. `refused`: reconnecting was refused at once (the process is gone). */
  down(peer: PeerAddress, refused: boolean): void;
}

export interface LinkDirectoryOptions {
  readonly self: PeerIdentity;
  readonly secret: string;
  readonly silenceMs: number;
  readonly headers: MessageHeaderCodec;
  readonly logger: Logger;
}

const RECONNECT_FIRST_MS = 50;
const RECONNECT_MAX_MS = 1000;

/**
 * This node's outgoing links, one per living peer, kept up while membership lists the peer: connected
 * on join, reconnected with backoff when they break, closed when the peer leaves. A connection refused
 * right after a link broke means the peer's process is gone: reported, so the peer can be declared dead
 * at once (a wrong suspicion only costs that node a rejoin, thanks to fencing).
 */
export class LinkDirectory {
  private readonly peers = new Map<string, PeerState>();
  private stopped = false;

  constructor(
    private readonly options: LinkDirectoryOptions,
    private readonly events: LinkDirectoryEvents,
  ) {}

  /** The open link to `node`, if any. */
  linkTo(node: string): OwnerLink | undefined {
    const link = this.peers.get(node)?.link;
    return link !== undefined && !link.broken ? link : undefined;
  }

  /** Membership's current view: links to new peers open, links to gone ones close. */
  setPeers(peers: readonly PeerAddress[]): void {
    const wanted = new Map(peers.filter((p) => p.name !== this.options.self.node).map((p) => [p.name, p]));
    for (const [name, state] of this.peers) {
      const next = wanted.get(name);
      if (next === undefined || next.incarnation !== state.peer.incarnation || next.host !== state.peer.host || next.linkPort !== state.peer.linkPort) {
        this.drop(name);
      }
    }
    for (const [name, peer] of wanted) if (!this.peers.has(name)) this.open(peer);
  }

  stop(): void {
    this.stopped = true;
    for (const name of [...this.peers.keys()]) this.drop(name);
  }

  private open(peer: PeerAddress): void {
    const state: PeerState = { peer, link: undefined, connection: undefined, retryMs: RECONNECT_FIRST_MS, timer: undefined, closed: false, everUp: false };
    this.peers.set(peer.name, state);
    this.connect(state);
  }

  private drop(name: string): void {
    const state = this.peers.get(name);
    if (state === undefined) return;
    this.peers.delete(name);
    state.closed = true;
    clearTimeout(state.timer);
    state.connection?.close();
  }

  private connect(state: PeerState): void {
    if (state.closed || this.stopped) return;
    const socket = connect({ host: state.peer.host, port: state.peer.linkPort });
    // Listening first: the connection's own error listener closes it, and the close handler asks this.
    let refused = false;
    socket.once('error', (error: NodeJS.ErrnoException) => (refused = error.code === 'ECONNREFUSED'));
    const connection = new LinkConnection(socket, { secret: this.options.secret, self: this.options.self, silenceMs: this.options.silenceMs, logger: this.options.logger }, true);
    state.connection = connection;
    connection.ready.then(
      (identity) => {
        if (state.closed) return connection.close();
        if (identity.node !== state.peer.name) {
          this.options.logger.warn({ expected: state.peer.name, found: identity.node }, 'node link reached another node than membership lists there');
          return connection.close();
        }
        state.retryMs = RECONNECT_FIRST_MS;
        state.everUp = true;
        const link = new OwnerLink(connection, this.options.headers);
        state.link = link;
        this.events.up(state.peer, link);
      },
      () => undefined,
    );
    connection.onClose(() => {
      const wasUp = state.link !== undefined && state.link.connection === connection;
      if (wasUp) state.link = undefined;
      if (state.closed || this.stopped) return;
      if (wasUp || (refused && state.everUp)) this.events.down(state.peer, refused);
      state.timer = setTimeout(() => this.connect(state), state.retryMs);
      state.timer.unref();
      state.retryMs = Math.min(RECONNECT_MAX_MS, state.retryMs * 2);
    });
  }
}

interface PeerState {
  readonly peer: PeerAddress;
  link: OwnerLink | undefined;
  connection: LinkConnection | undefined;
  retryMs: number;
  timer: NodeJS.Timeout | undefined;
  closed: boolean;
  everUp: boolean;
}
