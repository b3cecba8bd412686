import { Command, InvalidArgumentError, Option } from 'commander';
import { CtlActions, LISTABLE, type CtlOptions, type PolicyOptions } from './ctl/actions.js';
import { ManagementApiError } from './ctl/client.js';
import { ShovelActions, type ShovelAddOptions } from './ctl/shovel-actions.js';

const EXIT_FAILURE = 1;

function integer(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
}

function count(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a non-negative integer');
  return n;
}

/**
 * `warren ctl`: operator commands over a running broker's management HTTP API (so it works remotely and
 * against RabbitMQ too). Connection options come before or after the subcommand.
 */
export function registerCtlCommand(program: Command): void {
  const ctl = program
    .command('ctl')
    .description("manage a running broker through its management HTTP API (list, purge, declare, publish, get, users, policies, definitions)")
    .addOption(new Option('--url <url>', 'management API base URL').default('http://127.0.0.1:15672').env('WARREN_CTL_URL'))
    .addOption(new Option('--user <name>', 'user name').default('guest'))
    .addOption(new Option('--password <password>', 'password').default('guest').env('WARREN_CTL_PASSWORD'))
    .option('--vhost <vhost>', "virtual host (lists: all vhosts when not given; changes: '/')")
    .option('--json', 'print JSON instead of tables');

  const run = (work: (actions: CtlActions, command: Command) => Promise<void>) =>
    async function (this: Command): Promise<void> {
      const options = this.optsWithGlobals<CtlOptions>();
      try {
        await work(new CtlActions(options), this);
      } catch (error) {
        process.stderr.write(`warren ctl: ${describe(error, options.url)}\n`);
        process.exitCode = EXIT_FAILURE;
      }
    };

  ctl.command('list <kind>').description(`list ${Object.keys(LISTABLE).join('|')}`).action(
    run((actions, command) => actions.list(command.args[0]!)),
  );
  const cluster = ctl.command('cluster').description('a cluster of nodes (README "Cluster")');
  cluster.command('status').description('the nodes: state, incarnation, lease, connections, queues owned').action(run((a) => a.clusterStatus()));
  cluster.command('rebalance').description('move replicated queues to where the hash puts them among the living nodes').action(run((a) => a.rebalance()));
  const sqsKeys = ctl.command('sqs-keys').description('SQS access keys of Warren users (README "SQS")');
  sqsKeys.command('list').description('every key (secrets are shown only when issued)').action(run((a) => a.sqsKeys()));
  sqsKeys.command('add <user>').description("issue a key pair to a user; calls that name no queue use --vhost (default '/')").action(run((a, c) => a.addSqsKey(c.args[0]!, c.optsWithGlobals<{ vhost?: string }>().vhost ?? '/')));
  sqsKeys.command('delete <id>').description('revoke a key').action(run((a, c) => a.deleteSqsKey(c.args[0]!)));
  ctl.command('purge <queue>').description('drop the ready messages of a queue').action(run((a, c) => a.purge(c.args[0]!)));
  ctl.command('delete <kind> <name>').description('delete a queue or an exchange').action(run((a, c) => a.delete(c.args[0]!, c.args[1]!)));
  ctl
    .command('declare <kind> <name>')
    .description('declare a queue or an exchange')
    .option('--type <type>', 'exchange type', 'direct')
    .option('--durable', 'survives a restart (default)', true)
    .option('--no-durable', 'transient')
    .option('--auto-delete', 'deleted when its last consumer / binding goes', false)
    .action(
      run((a, c) => {
        const o = c.opts<{ type: string; durable: boolean; autoDelete: boolean }>();
        return a.declare(c.args[0]!, c.args[1]!, o);
      }),
    );
  ctl.command('publish <exchange> <routing-key> <body>').description("publish a text message ('' = default exchange)").action(
    run((a, c) => a.publish(c.args[0]!, c.args[1]!, c.args[2]!)),
  );
  ctl
    .command('get <queue>')
    .description('fetch messages; by default they are put back (peek)')
    .option('--count <n>', 'how many', count, 1)
    .option('--requeue', 'put them back (default)', true)
    .option('--no-requeue', 'take them (acknowledge)')
    .action(
      run((a, c) => {
        const o = c.opts<{ count: number; requeue: boolean }>();
        return a.get(c.args[0]!, o.count, o.requeue);
      }),
    );
  ctl
    .command('move <queue> <destination>')
    .description('move ready messages to another queue of the vhost')
    .option('--count <n>', 'how many (default all)', count)
    .action(run((a, c) => a.move(c.args[0]!, c.args[1]!, c.opts<{ count?: number }>().count)));
  ctl
    .command('add-user <name> <password>')
    .description('add or update a user')
    .option('--tags <tags>', 'comma-separated tags, e.g. administrator', '')
    .action(run((a, c) => a.addUser(c.args[0]!, c.args[1]!, c.opts<{ tags: string }>().tags)));
  ctl.command('delete-user <name>').description('delete a user').action(run((a, c) => a.deleteUser(c.args[0]!)));
  ctl
    .command('set-permissions <user>')
    .description('grant a user permissions on --vhost (regular expressions)')
    .option('--configure <regex>', 'configure permission', '.*')
    .option('--write <regex>', 'write permission', '.*')
    .option('--read <regex>', 'read permission', '.*')
    .action(run((a, c) => a.setPermissions(c.args[0]!, c.opts<{ configure: string; write: string; read: string }>())));
  ctl
    .command('set-policy <name> <pattern> <definition>')
    .description('add or replace a policy on --vhost; <definition> is JSON, e.g. \'{"max-length":1000}\'')
    .option('--apply-to <kind>', 'queues, exchanges or all', 'all')
    .option('--priority <n>', 'higher wins when several policies match', integer, 0)
    .action(run((a, c) => a.setPolicy(c.args[0]!, c.args[1]!, c.args[2]!, c.opts<PolicyOptions>())));
  ctl.command('clear-policy <name>').description('delete a policy of --vhost').action(run((a, c) => a.clearPolicy(c.args[0]!)));
  registerShovelCommands(ctl, describe);
  ctl.command('export <file>').description('write the definitions (RabbitMQ format) to a file').action(run((a, c) => a.exportDefinitions(c.args[0]!)));
  ctl.command('import <file>').description('load definitions (a RabbitMQ export works)').action(run((a, c) => a.importDefinitions(c.args[0]!)));
}

function describe(error: unknown, url: string): string {
  if (error instanceof ManagementApiError) return error.message;
  // fetch reports network failures as "fetch failed" with the real reason in `cause`.
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return `cannot connect to ${url} (is the broker running with its HTTP API?)`;
  if (cause?.message !== undefined) return `cannot reach ${url}: ${cause.message}`;
  return error instanceof Error ? error.message : String(error);
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** `warren ctl shovel add|list|delete|restart` (README "Shovels"). */
function registerShovelCommands(ctl: Command, explain: (error: unknown, url: string) => string): void {
  const run = (work: (actions: ShovelActions, command: Command) => Promise<void>) =>
    async function (this: Command): Promise<void> {
      const options = this.optsWithGlobals<CtlOptions>();
      try {
        await work(new ShovelActions(options), this);
      } catch (error) {
        process.stderr.write(`warren ctl: ${explain(error, options.url)}\n`);
        process.exitCode = EXIT_FAILURE;
      }
    };
  const shovel = ctl.command('shovel').description('dynamic shovels on --vhost (RabbitMQ\'s shovel parameters)');
  shovel
    .command('add <name>')
    .description("add or replace a dynamic shovel; 'amqp://' without a host is this broker")
    .option('--src-uri <uri>', 'source broker (repeat for fail-over)', collect)
    .option('--src-queue <queue>', 'queue to move messages from')
    .option('--src-exchange <exchange>', 'exchange to take messages from (through a queue of the shovel)')
    .option('--src-exchange-key <key>', 'binding key for --src-exchange')
    .option('--dest-uri <uri>', 'destination broker (repeat for fail-over)', collect)
    .option('--dest-queue <queue>', 'queue to move messages to')
    .option('--dest-exchange <exchange>', 'exchange to publish to')
    .option('--dest-exchange-key <key>', 'routing key for --dest-exchange (default: the message\'s own)')
    .option('--ack-mode <mode>', 'on-confirm (default), on-publish or no-ack')
    .option('--prefetch <n>', 'unacknowledged messages in flight (default 1000)', integer)
    .option('--delete-after <when>', "never, queue-length or a message count")
    .option('--reconnect-delay <seconds>', 'wait before reconnecting (default 1; 0 = never)', Number)
    .option('--forward-headers', 'add x-shovelled headers')
    .option('--definition <json>', 'any other shovel keys, as a JSON object')
    .action(run((a, c) => a.add(c.args[0]!, c.opts<ShovelAddOptions>())));
  shovel.command('list').description('shovels and their state (all vhosts unless --vhost)').action(run((a) => a.list()));
  shovel.command('delete <name>').description('delete a dynamic shovel').action(run((a, c) => a.delete(c.args[0]!)));
  shovel.command('restart <name>').description('reconnect a shovel').action(run((a, c) => a.restart(c.args[0]!)));
}
