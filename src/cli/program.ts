import { Command } from 'commander';
import { WARREN_VERSION } from '../version.js';
import * as commands from './commands.js';

/** The `warren` command with every subcommand that commands.ts lists. */
export function buildProgram(): Command {
  const program = new Command('warren')
    .description('Warren: a message broker that speaks AMQP 0-9-1 for unmodified RabbitMQ clients, and SQS, MQTT, STOMP and Kafka on the same queues.')
    .version(WARREN_VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help (also: warren <command> --help)')
    .showHelpAfterError('(add --help for usage)');
  for (const register of Object.values(commands)) register(program);
  program.addHelpText('after', '\nRun `warren server --help` for every server option and environment variable.');
  return program;
}
