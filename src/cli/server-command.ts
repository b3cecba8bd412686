import { Command, Option } from 'commander';
import { ConfigError, loadConfig, OTHER_ENV_VARIABLES, SCALAR_SETTINGS, unknownEnvironmentVariables } from '../config/index.js';
import type { WarrenConfig } from '../config/index.js';
import { createLogger } from '../log.js';
import type { Logger } from '../log.js';
import { WarrenServer } from '../server.js';
import { ClusterDatabaseError } from '../cluster/db/database.js';
import { SchemaTooNewError } from '../cluster/db/schema.js';
import { DuplicateNodeError } from '../cluster/membership.js';
import { DataDirLockedError } from '../store/errors.js';

/** Exit status for a configuration that cannot be used (bad file, bad flag, bad variable). */
const EXIT_CONFIG = 2;
const EXIT_FAILURE = 1;

export function registerServerCommand(program: Command): void {
  const command = program
    .command('server')
    .description('run the broker (AMQP, optional AMQPS, SQS, MQTT, STOMP and Kafka doors, management HTTP API and dashboard) until SIGINT or SIGTERM')
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
  const current = { server: undefined as WarrenServer | undefined };
  stopOnSignals(() => current.server, logger);
  await startServer(config, logger, current);
}

/**
 * Starts a server; a cluster node that gets fenced (declared dead while it ran) has stopped by itself and
 * is started again here, as a new incarnation, with its clients reconnecting to it or to other nodes.
 */
async function startServer(config: WarrenConfig, logger: Logger, current: { server: WarrenServer | undefined }): Promise<void> {
  // Fail closed: once the store cannot write, stop serving and exit non-zero (a restart recovers).
  const server: WarrenServer = new WarrenServer(config, logger, {
    onStoreFailure: (error) => {
      logger.fatal({ err: error }, `message store failed, stopping: ${error.message}`);
      process.exitCode = EXIT_FAILURE;
      void server.stop('message store failed').finally(() => process.exit(EXIT_FAILURE));
    },
    onFenced: () => {
      logger.warn('rejoining the cluster as a new incarnation');
      void startServer(config, logger, current);
    },
  });
  current.server = server;
  try {
    await server.start();
  } catch (error) {
    logger.fatal({ err: error }, `Warren failed to start: ${(error as Error).message}`);
    // Mistakes an operator makes by hand (a second broker on the same data dir, a bad cluster URL or
    // login, a node name in use, a newer schema): say them plainly on stderr too.
    if (error instanceof DataDirLockedError || isClusterStartError(error)) process.stderr.write(`warren: ${(error as Error).message}\n`);
    process.exitCode = EXIT_FAILURE;
    await server.stop('startup failed');
  }
}

function isClusterStartError(error: unknown): boolean {
  return error instanceof ClusterDatabaseError || error instanceof DuplicateNodeError || error instanceof SchemaTooNewError;
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
function stopOnSignals(server: () => WarrenServer | undefined, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      logger.warn(`${signal} again: exiting without waiting`);
      process.exit(EXIT_FAILURE);
    }
    stopping = true;
    logger.info(`${signal} received: stopping`);
    (server()?.stop('shutdown') ?? Promise.resolve()).then(
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
