import { Command, Option } from 'commander';
import { ConfigError, loadConfig, OTHER_ENV_VARIABLES, SCALAR_SETTINGS, unknownEnvironmentVariables } from '../config/index.js';
import type { WarrenConfig } from '../config/index.js';
import { createLogger } from '../log.js';
import type { Logger } from '../log.js';
import { WarrenServer } from '../server.js';
import { DataDirLockedError } from '../store/errors.js';

/** Exit status for a configuration that cannot be used (bad file, bad flag, bad variable). */
const EXIT_CONFIG = 2;
const EXIT_FAILURE = 1;

export function registerServerCommand(program: Command): void {
  const command = program
    .command('server')
    .description('run the broker (AMQP, optional AMQPS, management HTTP API and dashboard) until SIGINT or SIGTERM')
    .addOption(new Option('-c, --config <file>', 'YAML config file, see warren.example.yaml [env WARREN_CONFIG]'));
  for (const setting of SCALAR_SETTINGS) {
    command.addOption(new Option(`--${setting.flag} ${setting.argument}`, `${setting.description} [env ${setting.env}]`));
  }
  command.addHelpText('after', environmentHelp()).action(async (_options: unknown, self: Command) => {
    await runServer(self);
  });
}

function environmentHelp(): string {
  const width = Math.max(...[...SCALAR_SETTINGS, ...OTHER_ENV_VARIABLES].map((v) => v.env.length));
  const rows = [...OTHER_ENV_VARIABLES, ...SCALAR_SETTINGS].map((v) => `  ${v.env.padEnd(width)}  ${v.description}`);
  return [
    '',
    'Environment variables:',
    ...rows,
    '',
    'Precedence: built-in defaults < config file < environment < flags.',
    'Without a config file: user guest/guest (administrator, all permissions on vhost /), allowed from localhost only.',
    'Startup prints one line per listener, e.g. "AMQP listening on 0.0.0.0:5672".',
    'SIGINT/SIGTERM close every client connection (connection.close 320) and exit 0.',
  ].join('\n');
}

async function runServer(command: Command): Promise<void> {
  const config = resolveConfig(command);
  if (config === undefined) return;
  const logger = createLogger({ level: config.log.level });
  for (const name of unknownEnvironmentVariables(process.env)) logger.warn(`ignoring unknown environment variable ${name}`);
  if (config.configFile !== undefined) logger.info({ file: config.configFile }, `config read from ${config.configFile}`);
  // Fail closed: once the store cannot write, stop serving and exit non-zero (a restart recovers).
  const server: WarrenServer = new WarrenServer(config, logger, {
    onStoreFailure: (error) => {
      logger.fatal({ err: error }, `message store failed, stopping: ${error.message}`);
      process.exitCode = EXIT_FAILURE;
      void server.stop('message store failed').finally(() => process.exit(EXIT_FAILURE));
    },
  });
  stopOnSignals(server, logger);
  try {
    await server.start();
  } catch (error) {
    logger.fatal({ err: error }, `Warren failed to start: ${(error as Error).message}`);
    // The one mistake an operator makes by hand (a second broker on the same data dir): say it plainly.
    if (error instanceof DataDirLockedError) process.stderr.write(`warren: ${error.message}\n`);
    process.exitCode = EXIT_FAILURE;
    await server.stop('startup failed');
  }
}

function resolveConfig(command: Command): WarrenConfig | undefined {
  const options = command.opts<Record<string, string | undefined>>();
  const flags: Record<string, string | undefined> = {};
  for (const setting of SCALAR_SETTINGS) {
    flags[setting.flag] = options[new Option(`--${setting.flag}`).attributeName()];
  }
  try {
    return loadConfig({ file: options['config'], flags });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`warren: ${error.message}\n`);
    process.exitCode = EXIT_CONFIG;
    return undefined;
  }
}

/** First signal: graceful stop, exit 0. A second one while stopping: exit at once. */
function stopOnSignals(server: WarrenServer, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without waiting`);
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    logger.info(`${signal} received: stopping`);
    server.stop('shutdown').then(
      () => process.exit(process.exitCode ?? 0),
      (error: unknown) => {
        logger.error({ err: error }, 'error while stopping');
        process.exit(EXIT_FAILURE);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}
