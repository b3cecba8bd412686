// Samples over time for the charts, kept in the page (the API gives counters and current values;
// rates between two polls are the counters' growth divided by the time between them).

const MAX_SAMPLES = 300; // 10 minutes at 2 s

export class History {
  constructor() {
    this.samples = [];
  }

  /** values: { name: number } at time t (ms). */
  add(t, values) {
    this.samples.push({ t, values });
    if (this.samples.length > MAX_SAMPLES) this.samples.shift();
  }

  get latest() {
    return this.samples[this.samples.length - 1];
  }

  /** The series of a gauge (a current value such as queue depth). */
  gauge(name) {
    return this.samples.map((s) => ({ t: s.t, v: s.values[name] ?? 0 }));
  }

  /**
   * The series of a counter's rate per second between consecutive samples; a counter that went down
   * (objects deleted, broker restarted) counts as zero growth.
   */
  rate(name) {
    const points = [];
    for (let i = 1; i < this.samples.length; i++) {
      const a = this.samples[i - 1];
      const b = this.samples[i];
      const seconds = (b.t - a.t) / 1000;
      if (seconds <= 0) continue;
      points.push({ t: b.t, v: Math.max(0, ((b.values[name] ?? 0) - (a.values[name] ?? 0)) / seconds) });
    }
    return points;
  }
}
