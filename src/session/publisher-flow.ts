import { performance } from 'node:perf_hooks';

/** What PublisherFlow does to its connection. */
export interface PublisherFlowActions {
  /** Stop reading the socket (and stop expecting heartbeats from it). */
  pauseInput(): void;
  resumeInput(): void;
  /** connection.blocked / connection.unblocked, only to clients that declared the capability. */
  notifyBlocked(reason: string): void;
  notifyUnblocked(): void;
}

/** What flow control looks at in a queue a publish reached (every QueueView has all of it). */
export interface FlowQueue {
  readonly deleted: boolean;
  readyCount(): number;
  consumerCount(): number;
  /** A stream: consumers read without removing, so its length says nothing of their pace; never holds publishers. */
  readonly appendOnly?: boolean;
}

export interface PublisherFlowSettings {
  /** Socket bytes one connection may feed in per event-loop turn before it yields to the others. */
  readonly turnBudgetBytes: number;
  /** Ready messages in a queue with consumers above which the publishers feeding it are held. */
  readonly queueHighWater: number;
  /** A hold ends once the queue is down to this many ready messages. */
  readonly queueLowWater: number;
  /** Event-loop idle time during a hold that shows the broker has capacity to spare: the hold ends. */
  readonly idleReleaseMs: number;
  /** How often a hold is re-examined. */
  readonly holdCheckMs: number;
}

export const DEFAULT_PUBLISHER_FLOW: PublisherFlowSettings = {
  turnBudgetBytes: 64 * 1024,
  queueHighWater: 4096,
  queueLowWater: 2048,
  idleReleaseMs: 2,
  holdCheckMs: 1,
};

/** Why input is paused; input resumes when no reason is left. */
const ALARM = 1;
const TURN = 2;
const CREDIT = 4;

/** A connection held by credit flow within this long is reported as 'flow' (it flickers in and out). */
const FLOW_STATE_LINGER_MS = 1000;

const Running = 0;
const Blocking = 1;
const Blocked = 2;

/**
 * Everything that stops reading one connection's socket (see ARCHITECTURE.md, "Flow control"):
 *
 * - Resource alarms, as RabbitMQ handles them: a raised alarm makes the connection 'blocking'; it
 *   becomes 'blocked' (socket no longer read, connection.blocked sent once) only at its next
 *   basic.publish, so connections that only consume keep acknowledging.
 * - A per-turn input budget: after `turnBudgetBytes` in one event-loop turn the socket is paused until
 *   the next turn (setImmediate), so a flooding publisher cannot fill a turn while consumers' acks wait.
 * - Credit flow: a publish that reaches a queue whose consumers fall behind (ready above the high
 *   water mark) holds the connection's input until the queue is down to the low water mark, its
 *   consumers are gone, or the event loop shows idle time (then the broker is not saturated and
 *   holding would only slow the publisher down). A queue without consumers never holds anyone: a job
 *   backlog fills at full speed. The connection then shows state 'flow', as in RabbitMQ.
 */
export class PublisherFlow {
  private alarmState = Running;
  private reason = '';
  private notified = false;
  private paused = 0;
  private turnBytes = 0;
  private heldBy: FlowQueue | undefined;
  private idleAtHold = 0;
  private holdTimer: NodeJS.Timeout | undefined;
  private lastHeldAt = -Infinity;
  private stopped = false;
  /** Times a credit hold started (tests and metrics). */
  creditHolds = 0;

  constructor(
    private readonly actions: PublisherFlowActions,
    private readonly notifies: boolean,
    private readonly settings: PublisherFlowSettings = DEFAULT_PUBLISHER_FLOW,
  ) {}

  /** Checked per basic.publish: true while an alarm waits for this connection to publish. */
  get blocking(): boolean {
    return this.alarmState === Blocking;
  }

  get stateName(): 'running' | 'flow' | 'blocking' | 'blocked' {
    if (this.alarmState === Blocked) return 'blocked';
    if (this.alarmState === Blocking) return 'blocking';
    if (this.heldBy !== undefined || performance.now() - this.lastHeldAt < FLOW_STATE_LINGER_MS) return 'flow';
    return 'running';
  }

  /** True while credit flow holds this connection's input. */
  get held(): boolean {
    return (this.paused & CREDIT) !== 0;
  }

  // ---- resource alarms -----------------------------------------------------------------------------

  /** An alarm was raised (reason) or cleared (undefined). */
  setAlarm(reason: string | undefined): void {
    if (reason !== undefined) {
      this.reason = reason;
      if (this.alarmState === Running) this.alarmState = Blocking;
      return;
    }
    const wasBlocked = this.alarmState === Blocked;
    this.alarmState = Running;
    if (!wasBlocked) return;
    this.resume(ALARM);
    if (this.notified) {
      this.notified = false;
      this.actions.notifyUnblocked();
    }
  }

  /** The connection published while blocking: stop reading it. */
  block(): void {
    this.alarmState = Blocked;
    this.pause(ALARM);
    if (this.notifies && !this.notified) {
      this.notified = true;
      this.actions.notifyBlocked(this.reason);
    }
  }

  // ---- per-turn input budget -----------------------------------------------------------------------

  /** A socket chunk is about to be handled. */
  countInput(bytes: number): void {
    if (this.turnBytes === 0) setImmediate(this.endTurn);
    this.turnBytes += bytes;
    if (this.turnBytes >= this.settings.turnBudgetBytes && (this.paused & TURN) === 0) this.pause(TURN);
  }

  private readonly endTurn = (): void => {
    this.turnBytes = 0;
    if ((this.paused & TURN) !== 0) this.resume(TURN);
  };

  // ---- credit flow ---------------------------------------------------------------------------------

  /** After a publish: the queues it reached. Hot path: a couple of reads per queue. */
  publishedTo(queues: readonly FlowQueue[]): void {
    if ((this.paused & CREDIT) !== 0) return;
    const high = this.settings.queueHighWater;
    for (let i = 0; i < queues.length; i++) {
      const queue = queues[i]!;
      if (queue.readyCount() > high && queue.consumerCount() !== 0 && queue.appendOnly !== true) {
        this.hold(queue);
        return;
      }
    }
  }

  private hold(queue: FlowQueue): void {
    if (this.stopped) return;
    this.heldBy = queue;
    this.creditHolds++;
    this.idleAtHold = performance.eventLoopUtilization().idle;
    this.pause(CREDIT);
    if (this.holdTimer === undefined) {
      this.holdTimer = setTimeout(this.checkHold, this.settings.holdCheckMs);
      this.holdTimer.unref();
    } else {
      this.holdTimer.refresh();
    }
  }

  private readonly checkHold = (): void => {
    const queue = this.heldBy;
    if (queue === undefined || this.stopped) return;
    const idleMs = performance.eventLoopUtilization().idle - this.idleAtHold;
    const caughtUp = queue.readyCount() <= this.settings.queueLowWater;
    if (caughtUp || queue.deleted || queue.consumerCount() === 0 || idleMs >= this.settings.idleReleaseMs) {
      this.releaseHold();
      return;
    }
    this.holdTimer!.refresh();
  };

  private releaseHold(): void {
    this.heldBy = undefined;
    this.lastHeldAt = performance.now();
    this.resume(CREDIT);
  }

  /** The connection is gone: no timers left behind, nothing resumed. */
  stop(): void {
    this.stopped = true;
    this.heldBy = undefined;
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
  }

  // ---- the socket ----------------------------------------------------------------------------------

  private pause(why: number): void {
    const was = this.paused;
    this.paused = was | why;
    if (was === 0) this.actions.pauseInput();
  }

  private resume(why: number): void {
    if ((this.paused & why) === 0) return;
    this.paused &= ~why;
    if (this.paused === 0 && !this.stopped) this.actions.resumeInput();
  }
}
