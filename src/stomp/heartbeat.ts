/**
 * Heart-beating (STOMP 1.1 "Heart-beating"): CONNECT's `heart-beat:cx,cy` says the client can send
 * every cx ms and wants to receive every cy ms. The server answers `sx,sy` and then sends an EOL when it
 * has written nothing for max(sx, cy), and gives up on a client silent for well over max(cx, sy).
 */
export interface HeartbeatPlan {
  /** What CONNECTED says: the server's sx,sy. */
  readonly header: string;
  /** Server writes an EOL after this long without output; 0 = never. */
  readonly sendEveryMs: number;
  /** A client silent for this long is dead; 0 = never checked. */
  readonly expectWithinMs: number;
}

/** Silence tolerated beyond the agreed interval (the spec lets the receiver allow for timing error). */
const GRACE_FACTOR = 2;

export function planHeartbeat(header: string | undefined, serverMinMs: number): HeartbeatPlan | 'invalid' {
  if (header === undefined) return { header: '0,0', sendEveryMs: 0, expectWithinMs: 0 };
  const match = /^\s*([0-9]{1,9})\s*,\s*([0-9]{1,9})\s*$/.exec(header);
  if (match === null) return 'invalid';
  const cx = Number(match[1]);
  const cy = Number(match[2]);
  const sx = cy === 0 ? 0 : Math.max(cy, serverMinMs);
  const sy = cx === 0 ? 0 : Math.max(cx, serverMinMs);
  return { header: `${sx},${sy}`, sendEveryMs: sx, expectWithinMs: sy * GRACE_FACTOR };
}

export class Heartbeats {
  private sendTimer: NodeJS.Timeout | undefined;
  private checkTimer: NodeJS.Timeout | undefined;
  private lastOut = Date.now();
  private lastIn = Date.now();

  constructor(
    private readonly plan: HeartbeatPlan,
    private readonly sendBeat: () => void,
    private readonly dead: () => void,
  ) {}

  start(): void {
    const { sendEveryMs, expectWithinMs } = this.plan;
    if (sendEveryMs > 0) {
      this.sendTimer = setInterval(() => {
        if (Date.now() - this.lastOut >= sendEveryMs) this.sendBeat();
      }, Math.max(50, Math.floor(sendEveryMs / 2)));
      this.sendTimer.unref();
    }
    if (expectWithinMs > 0) {
      this.checkTimer = setInterval(() => {
        if (Date.now() - this.lastIn > expectWithinMs) this.dead();
      }, Math.max(50, Math.floor(expectWithinMs / 4)));
      this.checkTimer.unref();
    }
  }

  wrote(): void {
    this.lastOut = Date.now();
  }

  received(): void {
    this.lastIn = Date.now();
  }

  stop(): void {
    clearInterval(this.sendTimer);
    clearInterval(this.checkTimer);
  }
}
