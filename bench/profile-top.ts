/**
 * Summarizes a V8 .cpuprofile (from `node --cpu-prof`, e.g. `npm run bench -- --cpu-prof <dir>`):
 * the functions with the most self time, and the files they live in.
 *
 *   node dist/bench/profile-top.js <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';
import { exitOnHelp } from './harness/usage.js';

exitOnHelp(import.meta.url);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

function selfTimes(profile: CpuProfile): Map<number, number> {
  const byNode = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    byNode.set(id, (byNode.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  return byNode;
}

function main(): void {
  const [file, topArg] = process.argv.slice(2);
  if (file === undefined) throw new Error('usage: profile-top <file.cpuprofile> [top]');
  const top = Number(topArg ?? 25);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of selfTimes(profile)) {
    const frame = nodes.get(id)?.callFrame;
    if (frame === undefined) continue;
    const where = frame.url.replace(/^file:\/\/.*?\/(src|node_modules)\//, '$1/') || '(native)';
    const key = `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
    byFile.set(where, (byFile.get(where) ?? 0) + micros);
    total += micros;
  }
  const print = (title: string, entries: Map<string, number>): void => {
    process.stdout.write(`\n${title} (of ${(total / 1e6).toFixed(2)} s sampled)\n`);
    for (const [key, micros] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${((100 * micros) / total).toFixed(1).padStart(5)} %  ${key}\n`);
    }
  };
  print('Self time by function', byFunction);
  print('Self time by file', byFile);
}

main();
