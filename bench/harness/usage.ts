import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A benchmark script's usage: its opening doc comment, which tsc keeps in the built file. */
export function scriptUsage(scriptUrl: string): string {
  const text = readFileSync(fileURLToPath(scriptUrl), 'utf8');
  const match = /^\s*\/\*\*([\s\S]*?)\*\//.exec(text);
  if (match === null) return '';
  return match[1]!.split('\n').map((line) => line.replace(/^\s*\* ?/, '')).join('\n').trim();
}

/** --help or -h among the arguments: prints the script's usage and exits 0. */
export function exitOnHelp(scriptUrl: string, argv: readonly string[] = process.argv.slice(2)): void {
  if (!argv.includes('--help') && !argv.includes('-h')) return;
  process.stdout.write(`${scriptUsage(scriptUrl)}\n`);
  process.exit(0);
}

/**
 * node:util's parseArgs for a benchmark's command line, with the usage a user expects: --help prints it
 * and exits 0; an unknown or malformed option prints the error and the usage and exits 2.
 */
export function parseBenchArgs<T extends ParseArgsConfig>(scriptUrl: string, config: T): ReturnType<typeof parseArgs<T>> {
  exitOnHelp(scriptUrl, config.args ?? process.argv.slice(2));
  try {
    return parseArgs(config);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${scriptUsage(scriptUrl)}\n`);
    process.exit(2);
  }
}
