/**
 * Starts one SQS emulator from npm in this process and prints "listening <port>": the benchmark
 * (bench/sqs.ts) runs each server in a child process of its own, so servers never share a thread with
 * the client. The emulators are not project dependencies; install them once with
 *   npm install --prefix bench/.emulators fauxqs local-aws-sqs
 * (or point SQS_EMULATORS at another folder holding node_modules/).
 */
import { createRequire, register } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const which = process.argv[2];
const folder = resolve(process.env['SQS_EMULATORS'] ?? 'bench/.emulators');
const require = createRequire(join(folder, 'package.json'));

/**
 * fauxqs 2.x imports node:sqlite (Node 22.5+) for its optional persistence, which the benchmark does
 * not use; on Node 20 that import is resolved to a stub whose DatabaseSync throws if ever called.
 */
const SQLITE_STUB = 'export class DatabaseSync { constructor() { throw new Error("node:sqlite is not available on this Node"); } }';
const HOOKS = `data:text/javascript,${encodeURIComponent(`export async function load(url, context, next) { return url === 'node:sqlite' ? { format: 'module', source: ${JSON.stringify(SQLITE_STUB)}, shortCircuit: true } : next(url, context); }`)}`;

async function main(): Promise<void> {
  if (which === 'fauxqs') {
    if (Number(process.versions.node.split('.')[0]) < 22) register(HOOKS);
    const { startFauxqs } = (await import(pathToFileURL(join(folder, 'node_modules', 'fauxqs', 'dist', 'app.js')).href)) as { startFauxqs: (o: object) => Promise<{ port: number }> };
    const server = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false });
    console.log(`listening ${server.port}`);
  } else if (which === 'local-aws-sqs') {
    const { createSqsServer } = require('local-aws-sqs') as { createSqsServer: (o: object) => Promise<import('node:http').Server> };
    const server = await createSqsServer({ port: 0, hostname: '127.0.0.1', accountId: '000000000000', emulateQueueCreationLifecycle: false });
    await new Promise<void>((r) => (server.listening ? r() : server.once('listening', () => r())));
    console.log(`listening ${(server.address() as import('node:net').AddressInfo).port}`);
  } else {
    throw new Error(`unknown emulator ${which}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
