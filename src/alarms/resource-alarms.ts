/** The resources whose alarms block publishers, with the reasons RabbitMQ sends in connection.blocked. */
export const ALARM_REASONS = { memory: 'low on memory', disk: 'low on disk', database: 'cluster database unavailable' } as const;
export type AlarmResource = keyof typeof ALARM_REASONS;

/**
 * Publishers are blocked while any resource alarm is raised, and unblocked only when all have cleared
 * (two alarms must not unblock each other). Holds the set of raised alarms and tells its subscriber the
 * connection.blocked reason to apply, or undefined.
 */
export class ResourceAlarms {
  private readonly raised = new Set<AlarmResource>();

  constructor(private readonly apply: (reason: string | undefined) => void) {}

  set(resource: AlarmResource, alarmed: boolean): void {
    const before = this.blockedReason();
    if (alarmed) this.raised.add(resource);
    else this.raised.delete(resource);
    const after = this.blockedReason();
    if (after !== before) this.apply(after);
  }

  isRaised(resource: AlarmResource): boolean {
    return this.raised.has(resource);
  }

  /** "low on memory", "low on disk", both joined, or undefined when publishing is free. */
  blockedReason(): string | undefined {
    if (this.raised.size === 0) return undefined;
    return [...this.raised].sort().map((resource) => ALARM_REASONS[resource]).join(' & ');
  }
}
