/** What PublisherFlow does to its connection. */
export interface PublisherFlowActions {
  /** Stop reading the socket (and stop expecting heartbeats from it). */
  pauseInput(): void;
  resumeInput(): void;
  /** connection.blocked / connection.unblocked, only to clients that declared the capability. */
  notifyBlocked(reason: string): void;
  notifyUnblocked(): void;
}

const Running = 0;
const Blocking = 1;
const Blocked = 2;

/**
 * Resource alarms for one connection, as RabbitMQ handles them: a raised alarm makes the connection
 * 'blocking'; it becomes 'blocked' (socket no longer read, connection.blocked sent once) only at its
 * next basic.publish, so connections that only consume keep acknowledging.
 */
export class PublisherFlow {
  private state = Running;
  private reason = '';
  private notified = false;

  constructor(
    private readonly actions: PublisherFlowActions,
    private readonly notifies: boolean,
  ) {}

  /** Checked per basic.publish: true while an alarm waits for this connection to publish. */
  get blocking(): boolean {
    return this.state === Blocking;
  }

  get stateName(): 'running' | 'blocking' | 'blocked' {
    return this.state === Running ? 'running' : this.state === Blocking ? 'blocking' : 'blocked';
  }

  /** An alarm was raised (reason) or cleared (undefined). */
  setAlarm(reason: string | undefined): void {
    if (reason !== undefined) {
      this.reason = reason;
      if (this.state === Running) this.state = Blocking;
      return;
    }
    const wasBlocked = this.state === Blocked;
    this.state = Running;
    if (!wasBlocked) return;
    this.actions.resumeInput();
    if (this.notified) {
      this.notified = false;
      this.actions.notifyUnblocked();
    }
  }

  /** The connection published while blocking: stop reading it. */
  block(): void {
    this.state = Blocked;
    this.actions.pauseInput();
    if (this.notifies && !this.notified) {
      this.notified = true;
      this.actions.notifyBlocked(this.reason);
    }
  }
}
