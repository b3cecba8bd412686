/**
 * A log-linear latency histogram in microseconds: exact below 1,024 µs, then 64 sub-buckets per power
 * of two (under 1.6 % error), up to 2^32 µs (71 minutes). Recording is one array increment, so the
 * consumer's per-message cost stays flat; histograms from many workers merge by adding counts.
 */

const LINEAR_LIMIT = 1024; // 2^10
const SUB_BUCKET_BITS = 6; // 64 sub-buckets per power of two
const SUB_BUCKETS = 1 << SUB_BUCKET_BITS;
const MAX_EXPONENT = 32;
const BUCKET_COUNT = LINEAR_LIMIT + (MAX_EXPONENT - 10) * SUB_BUCKETS;
const MAX_MICROS = 2 ** 32 - 1;

function bucketOf(micros: number): number {
  if (micros < LINEAR_LIMIT) return micros < 0 ? 0 : micros;
  const v = micros > MAX_MICROS ? MAX_MICROS : micros;
  const exponent = 31 - Math.clz32(v); // floor(log2 v), >= 10
  const sub = (v >>> (exponent - SUB_BUCKET_BITS)) & (SUB_BUCKETS - 1);
  return LINEAR_LIMIT + (exponent - 10) * SUB_BUCKETS + sub;
}

/** The upper bound of a bucket's range, in µs: percentiles never report better than measured. */
function bucketUpperBound(index: number): number {
  if (index < LINEAR_LIMIT) return index;
  const offset = index - LINEAR_LIMIT;
  const exponent = 10 + Math.floor(offset / SUB_BUCKETS);
  const sub = offset % SUB_BUCKETS;
  const width = 2 ** (exponent - SUB_BUCKET_BITS);
  return 2 ** exponent + (sub + 1) * width - 1;
}

export interface LatencySummary {
  count: number;
  /** Microseconds. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Sparse wire form for IPC: [bucket, count, bucket, count, ...] plus the exact max and sum. */
export interface HistogramSnapshot {
  buckets: number[];
  max: number;
  sum: number;
}

export class LatencyHistogram {
  private readonly counts = new Float64Array(BUCKET_COUNT);
  private total = 0;
  private maxMicros = 0;
  private sumMicros = 0;

  get count(): number {
    return this.total;
  }

  /** Records `times` samples of one latency (a whole socket read shares one arrival time). */
  record(micros: number, times = 1): void {
    const m = micros < 0 ? 0 : Math.round(micros);
    this.counts[bucketOf(m)]! += times;
    this.total += times;
    this.sumMicros += m * times;
    if (m > this.maxMicros) this.maxMicros = m;
  }

  percentile(p: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < BUCKET_COUNT; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(bucketUpperBound(i), this.maxMicros);
    }
    return this.maxMicros;
  }

  summary(): LatencySummary {
    return {
      count: this.total,
      p50: this.percentile(50),
      p95: this.percentile(95),
      p99: this.percentile(99),
      max: this.maxMicros,
      mean: this.total === 0 ? 0 : this.sumMicros / this.total,
    };
  }

  snapshot(): HistogramSnapshot {
    const buckets: number[] = [];
    for (let i = 0; i < BUCKET_COUNT; i++) {
      const c = this.counts[i]!;
      if (c !== 0) buckets.push(i, c);
    }
    return { buckets, max: this.maxMicros, sum: this.sumMicros };
  }

  merge(snapshot: HistogramSnapshot): void {
    const b = snapshot.buckets;
    for (let i = 0; i + 1 < b.length; i += 2) {
      const index = b[i]!;
      const count = b[i + 1]!;
      if (index < 0 || index >= BUCKET_COUNT) continue;
      this.counts[index]! += count;
      this.total += count;
    }
    this.sumMicros += snapshot.sum;
    if (snapshot.max > this.maxMicros) this.maxMicros = snapshot.max;
  }

  reset(): void {
    this.counts.fill(0);
    this.total = 0;
    this.maxMicros = 0;
    this.sumMicros = 0;
  }
}
