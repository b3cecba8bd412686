/**
 * What stalls a broker's event loop, second by second: loaded into Warren's process with
 *   node dist/bench/sqs.js --warren-args='--import ./dist/bench/sqs/loop-probe.js'   (LOOP_PROBE_FILE=path, default <tmp>/warren-loop-probe.txt)
 * it appends one line a second: the main thread's CPU time and its time waiting on the run queue
 * (/proc/thread-self/schedstat), its voluntary / involuntary context switches (/proc/thread-self/status),
 * event-loop delay (monitorEventLoopDelay p99 and max), GC pauses, and the store's fdatasync calls, each
 * timed on the main thread: only the hand-off to the thread pool runs there, so one longer than 1 ms is
 * listed with the run-queue wait and the context switches it contained (involuntary: the thread was
 * preempted; voluntary: it slept, e.g. on the thread pool's lock). As a control, each hand-off is
 * followed by 50 us of plain computation measured the same way: if the hand-off is preempted far more
 * often than the control, waking the pool thread is what costs the main thread its core. Linux only;
 * a measuring tool, not part of the broker.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

const file = process.env['LOOP_PROBE_FILE'] ?? join(tmpdir(), 'warren-loop-probe.txt');
const readText = fs.readFileSync;

interface ThreadTimes {
  runMs: number;
  waitMs: number;
  voluntary: number;
  involuntary: number;
}

function threadTimes(): ThreadTimes {
  const sched = readText('/proc/thread-self/schedstat', 'latin1').split(' ');
  const status = readText('/proc/thread-self/status', 'latin1');
  const count = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { runMs: Number(sched[0]) / 1e6, waitMs: Number(sched[1]) / 1e6, voluntary: count('voluntary_ctxt_switches'), involuntary: count('nonvoluntary_ctxt_switches') };
}

interface SlowHandOff {
  wallMs: number;
  waitMs: number;
  voluntary: number;
  involuntary: number;
}

let handOffs = 0;
let slow: SlowHandOff[] = [];
/** Hand-offs and controls that contained an involuntary context switch, and that took over 1 ms. */
const tally = { handOffs: 0, handOffPreempted: 0, handOffOver1ms: 0, controlPreempted: 0, controlOver1ms: 0 };
const fdatasync = fs.fdatasync;

/** Runs `work` between two readings of the thread's times. */
function measured(work: () => void): SlowHandOff {
  const before = threadTimes();
  const started = process.hrtime.bigint();
  work();
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const after = threadTimes();
  return { wallMs, waitMs: after.waitMs - before.waitMs, voluntary: after.voluntary - before.voluntary, involuntary: after.involuntary - before.involuntary };
}

function spin(us: number): void {
  const until = process.hrtime.bigint() + BigInt(us * 1000);
  while (process.hrtime.bigint() < until);
}

const timed = (fd: number, callback: fs.NoParamCallback): void => {
  const handOff = measured(() => fdatasync(fd, callback));
  const control = measured(() => spin(50));
  handOffs++;
  tally.handOffs++;
  if (handOff.involuntary > 0) tally.handOffPreempted++;
  if (control.involuntary > 0) tally.controlPreempted++;
  if (control.wallMs > 1) tally.controlOver1ms++;
  if (handOff.wallMs <= 1) return;
  tally.handOffOver1ms++;
  slow.push(handOff);
};
(fs as { fdatasync: typeof timed }).fdatasync = timed;
syncBuiltinESMExports(); // the store's `import * as fs from 'node:fs'` sees the timed one

const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
let gcPauses: number[] = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcPauses.push(entry.duration);
}).observe({ entryTypes: ['gc'] });

let last = threadTimes();
const ms = (x: number): string => x.toFixed(1);
setInterval(() => {
  const now = threadTimes();
  const slowText = slow.map((s) => `${ms(s.wallMs)} (run queue ${ms(s.waitMs)}, switches ${s.involuntary} inv ${s.voluntary} vol)`).join(', ');
  fs.appendFileSync(
    file,
    `${new Date().toISOString().slice(11, 19)} main thread ran ${ms(now.runMs - last.runMs)} ms, waited ${ms(now.waitMs - last.waitMs)} ms on the run queue, ` +
      `switches ${now.involuntary - last.involuntary} involuntary ${now.voluntary - last.voluntary} voluntary | loop delay p99 ${ms(delay.percentile(99) / 1e6)} max ${ms(delay.max / 1e6)} ms | ` +
      `gc ${gcPauses.length} pauses, max ${ms(Math.max(0, ...gcPauses))} ms | fdatasync ${handOffs}, ${slow.length} hand-offs over 1 ms: ${slowText}\n`,
  );
  delay.reset();
  gcPauses = [];
  slow = [];
  handOffs = 0;
  last = now;
}, 1000).unref();

process.once('exit', () => {
  fs.appendFileSync(file, `totals: ${tally.handOffs} fdatasync hand-offs, preempted ${tally.handOffPreempted}, over 1 ms ${tally.handOffOver1ms}; 50 us controls preempted ${tally.controlPreempted}, over 1 ms ${tally.controlOver1ms}\n`);
});
