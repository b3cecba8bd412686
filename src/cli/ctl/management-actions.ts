import { ManagementClient } from './client.js';

/** How `warren ctl` reaches a broker: its management API, the credentials, and how to print. */
export interface CtlOptions {
  url: string;
  user: string;
  password: string;
  vhost?: string;
  json?: boolean;
}

/** What every group of `warren ctl` subcommands shares: the API client, the vhost, JSON or human output. */
export abstract class ManagementActions {
  protected readonly client: ManagementClient;

  constructor(
    protected readonly options: CtlOptions,
    private readonly out: (text: string) => void = (text) => process.stdout.write(text),
  ) {
    this.client = new ManagementClient(options);
  }

  protected get vhost(): string {
    return this.options.vhost ?? '/';
  }

  protected print(value: unknown, human: () => string): void {
    this.out(this.options.json === true ? `${JSON.stringify(value, null, 2)}\n` : human());
  }
}
