import { segment } from './client.js';
import { ManagementActions } from './management-actions.js';
import { formatTable } from './table.js';

/** `warren ctl shovel add` flags: RabbitMQ's shovel keys in commander's camelCase. */
export interface ShovelAddOptions {
  srcUri?: string[];
  srcQueue?: string;
  srcExchange?: string;
  srcExchangeKey?: string;
  destUri?: string[];
  destQueue?: string;
  destExchange?: string;
  destExchangeKey?: string;
  ackMode?: string;
  prefetch?: number;
  deleteAfter?: string;
  reconnectDelay?: number;
  forwardHeaders?: boolean;
  /** Any other keys, as a JSON object merged under the flags. */
  definition?: string;
}

const FLAG_KEYS: readonly [keyof ShovelAddOptions, string][] = [
  ['srcQueue', 'src-queue'],
  ['srcExchange', 'src-exchange'],
  ['srcExchangeKey', 'src-exchange-key'],
  ['destQueue', 'dest-queue'],
  ['destExchange', 'dest-exchange'],
  ['destExchangeKey', 'dest-exchange-key'],
  ['ackMode', 'ack-mode'],
  ['prefetch', 'src-prefetch-count'],
  ['reconnectDelay', 'reconnect-delay'],
  ['forwardHeaders', 'dest-add-forward-headers'],
];

/** The parameter value `shovel add` sends (the broker validates it and answers with the reason). */
export function shovelValue(options: ShovelAddOptions): Record<string, unknown> {
  const value: Record<string, unknown> = options.definition === undefined ? {} : (JSON.parse(options.definition) as Record<string, unknown>);
  const uris = (list: string[] | undefined): unknown => (list === undefined ? undefined : list.length === 1 ? list[0] : list);
  if (options.srcUri !== undefined) value['src-uri'] = uris(options.srcUri);
  if (options.destUri !== undefined) value['dest-uri'] = uris(options.destUri);
  for (const [flag, key] of FLAG_KEYS) if (options[flag] !== undefined) value[key] = options[flag];
  if (options.deleteAfter !== undefined) value['src-delete-after'] = /^[0-9]+$/.test(options.deleteAfter) ? Number(options.deleteAfter) : options.deleteAfter;
  return value;
}

/** `warren ctl shovel add|list|delete|restart` over /api/parameters/shovel and /api/shovels. */
export class ShovelActions extends ManagementActions {
  async add(name: string, options: ShovelAddOptions): Promise<void> {
    const value = shovelValue(options);
    await this.client.put(`/parameters/shovel/${segment(this.vhost)}/${segment(name)}`, { value });
    this.print({ vhost: this.vhost, name, value }, () => `added shovel '${name}' on vhost '${this.vhost}'\n`);
  }

  async list(): Promise<void> {
    const path = this.options.vhost === undefined ? '/shovels' : `/shovels/${segment(this.vhost)}`;
    const rows = await this.client.get<unknown[]>(path);
    this.print(rows, () => formatTable(rows, ['vhost', 'name', 'type', 'state', 'src_uri', 'dest_uri', 'message_stats.transferred', 'reason']));
  }

  async delete(name: string): Promise<void> {
    await this.client.delete(`/parameters/shovel/${segment(this.vhost)}/${segment(name)}`);
    this.print({ deleted: { shovel: name, vhost: this.vhost } }, () => `deleted shovel '${name}' on vhost '${this.vhost}'\n`);
  }

  async restart(name: string): Promise<void> {
    await this.client.delete(`/shovels/vhost/${segment(this.vhost)}/${segment(name)}/restart`);
    this.print({ restarted: { shovel: name, vhost: this.vhost } }, () => `restarted shovel '${name}' on vhost '${this.vhost}'\n`);
  }
}
