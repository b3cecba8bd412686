import type { FileSystem } from './fs.js';
import { closeQuietly } from './fs.js';
import { CompactionJob, type CompactionHost } from './compactor.js';
import { ReleaseScan } from './release-scan.js';
import type { Segment } from './segment.js';

/** What background maintenance needs of its store. */
export interface MaintenanceHost {
  readonly fs: FileSystem;
  readonly segments: Map<number, Segment>;
  headNumber(): number;
  /** False once the store closed or failed: no more background work. */
  active(): boolean;
  /** A segment file was deleted: the directory needs a sync. */
  directoryChanged(): void;
  syncFd(fd: number): Promise<void>;
  syncDir(): Promise<void>;
  /** Writes the head's buffered records to its file (a release scan reads the file). */
  flushHead(): void;
}

export interface MaintenanceSettings {
  /** Compact a sealed segment once this fraction of its messages is dead. */
  readonly compactionThreshold: number;
  /** Bytes of segment data compaction reads per maintenance round. */
  readonly compactionStepBytes: number;
}

/**
 * Giving disk space back (FORMAT.md, "Compaction"): segments that hold nothing live are deleted once no
 * record in them matters any more, and the segment with the largest dead fraction is compacted in steps.
 */
export class LogMaintenance implements CompactionHost {
  readonly fs: FileSystem;
  private readonly deadCandidates = new Set<Segment>();
  private compaction: CompactionJob | undefined;
  /** Segments that may hold messages of dropped streams, with those stream ids (release-scan.ts). */
  private readonly pendingReleases = new Map<Segment, Set<number>>();
  private releaseScan: ReleaseScan | undefined;
  /** Release scan steps taken (progress, for compactNow). */
  private releaseSteps = 0;
  /** The running compaction's final rename and sync (close waits for it). */
  finishing: Promise<void> | undefined;
  /** Bumped whenever a segment is deleted or compacted: a pinned dead segment may have come free. */
  private layoutVersion = 0;
  compactions = 0;
  deletedSegments = 0;
  /** Damage found while the store runs (compaction CRC failures). */
  readonly runtimeProblems: string[] = [];

  constructor(
    private readonly host: MaintenanceHost,
    private readonly settings: MaintenanceSettings,
  ) {
    this.fs = host.fs;
  }

  maybeDead(segment: Segment): void {
    if (segment.live === 0 && segment.sealed) this.deadCandidates.add(segment);
  }

  /** A stream was dropped: the files that may hold its messages are scanned to free them. */
  streamDropped(id: number): void {
    for (const segment of this.host.segments.values()) {
      if (!segment.streams.has(id)) continue;
      segment.streams.delete(id);
      let ids = this.pendingReleases.get(segment);
      if (ids === undefined) this.pendingReleases.set(segment, (ids = new Set()));
      ids.add(id);
    }
  }

  /** One round of background work: free dropped streams' messages, delete dead segments, compact. */
  async maintain(): Promise<void> {
    if (!this.host.active()) return;
    if (this.advanceReleases()) return;
    this.deleteDeadSegments();
    if (this.finishing) return;
    this.compaction ??= this.startCompaction();
    const job = this.compaction;
    if (!job || !job.step(this.settings.compactionStepBytes)) return;
    this.finishing = job.finish().finally(() => {
      this.compaction = undefined;
      this.finishing = undefined;
    });
    await this.finishing;
  }

  /** Runs maintenance until no deletion or compaction is left to do (tests, shutdown tools). */
  async compactNow(): Promise<void> {
    for (let rounds = 0; rounds < 100_000; rounds++) {
      const before = this.layoutVersion + this.releaseSteps;
      await this.maintain();
      const busy = this.compaction || this.finishing || this.releaseScan || this.pendingReleases.size !== 0;
      if (!busy && before === this.layoutVersion + this.releaseSteps) return;
    }
  }

  /**
   * Steps the release scan (starting the next one when none runs). True while scans are left, so that
   * the round does nothing else: compaction must not rewrite a file a scan is reading. A file being
   * compacted waits; a deleted one needs no scan.
   */
  private advanceReleases(): boolean {
    if (this.releaseScan === undefined) {
      for (const [segment, ids] of this.pendingReleases) {
        if (!this.host.segments.has(segment.number)) {
          this.pendingReleases.delete(segment);
          continue;
        }
        if (segment.compacting) continue;
        this.pendingReleases.delete(segment);
        if (this.isHead(segment)) this.host.flushHead();
        this.releaseScan = new ReleaseScan(this.fs, segment, ids);
        break;
      }
    }
    const scan = this.releaseScan;
    if (scan === undefined) return false;
    this.releaseSteps++;
    if (scan.step(this.settings.compactionStepBytes)) {
      this.releaseScan = undefined;
      this.maybeDead(scan.segment);
    }
    return true;
  }

  /** The store closes: stop a compaction between steps and wait for one that is finishing. */
  async stop(): Promise<void> {
    this.compaction?.cancel();
    await this.finishing?.catch(() => undefined);
  }

  private isHead(segment: Segment): boolean {
    return segment.number === this.host.headNumber();
  }

  /** A segment may go once it holds nothing live and every Remove/Deliver record in it is obsolete. */
  private deletable(segment: Segment): boolean {
    if (this.isHead(segment) || !segment.sealed || segment.live > 0 || segment.compacting || segment.syncPending) return false;
    for (const target of segment.refTargets.keys()) {
      if (target === segment.number) continue;
      const other = this.host.segments.get(target);
      if (other && other.compactedAtHead <= segment.number) return false;
    }
    return true;
  }

  private deleteDeadSegments(): void {
    for (const segment of this.deadCandidates) {
      if (segment.live > 0) this.deadCandidates.delete(segment);
      else if (this.deletable(segment)) {
        this.deadCandidates.delete(segment);
        this.deleteSegment(segment);
      }
    }
  }

  private deleteSegment(segment: Segment): void {
    this.host.segments.delete(segment.number);
    closeQuietly(this.fs, segment.fd);
    this.fs.unlinkSync(segment.path);
    this.host.directoryChanged();
    this.layoutVersion++;
    this.deletedSegments++;
  }

  private startCompaction(): CompactionJob | undefined {
    let best: Segment | undefined;
    let bestDead = 0;
    for (const segment of this.host.segments.values()) {
      if (this.isHead(segment) || !segment.sealed || segment.compacting || segment.syncPending || segment.damaged) continue;
      if (this.pendingReleases.has(segment)) continue;
      if (segment.live === 0 && this.deletable(segment)) continue;
      const deadFraction = segment.present === 0 ? 0 : (segment.present - segment.live) / segment.present;
      const pinnedDead = segment.live === 0 && segment.layoutAtCompaction !== this.layoutVersion;
      if ((deadFraction >= this.settings.compactionThreshold || pinnedDead) && deadFraction >= bestDead) {
        best = segment;
        bestDead = deadFraction;
      }
    }
    if (!best) return undefined;
    best.layoutAtCompaction = this.layoutVersion;
    return new CompactionJob(this, best);
  }

  // ---- CompactionHost ------------------------------------------------------------------------------

  segment(number: number): Segment | undefined {
    return this.host.segments.get(number);
  }

  headNumber(): number {
    return this.host.headNumber();
  }

  syncFd(fd: number): Promise<void> {
    return this.host.syncFd(fd);
  }

  syncDir(): Promise<void> {
    return this.host.syncDir();
  }

  compacted(segment: Segment): void {
    this.layoutVersion++;
    segment.layoutAtCompaction = this.layoutVersion;
    this.compactions++;
    this.maybeDead(segment);
    for (const other of this.host.segments.values()) this.maybeDead(other);
  }

  damaged(segment: Segment, offset: number): void {
    segment.damaged = true;
    this.runtimeProblems.push(`${segment.path}: record at offset ${offset} failed its CRC during compaction; segment left as is`);
  }
}
