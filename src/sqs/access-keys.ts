import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** An access key pair that belongs to a Warren user (and so carries that user's vhost permissions). */
export interface AccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  user: string;
  /** The vhost (account) of calls that name no queue (CreateQueue, ListQueues). */
  vhost: string;
  /** ms since the epoch */
  created: number;
}

interface KeysFile {
  version: 1;
  /** Signs receipt handles, so that they stay genuine across restarts. */
  receiptSecret: string;
  keys: AccessKey[];
}

/**
 * The SQS door's access keys. A SigV4 verifier must know each secret (passwords are only stored
 * hashed, so they cannot serve), so the secrets are kept in `<dataDir>/sqs/keys.json` (mode 0600).
 * Keys come from the config file (`sqs.accessKeys`, re-applied at every start), from the management
 * API and `warren ctl sqs-key`, and the built-in guest/guest for the user `guest` (accepted, like
 * guest over AMQP, only from loopback: the user registry's loopback rule applies to its keys).
 */
export class AccessKeyStore {
  private readonly keys = new Map<string, AccessKey>();
  private receiptSecret: Buffer = randomBytes(32);
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly dir: string | undefined) {}

  async load(): Promise<void> {
    if (this.dir === undefined) return;
    let parsed: KeysFile | undefined;
    try {
      parsed = JSON.parse(await readFile(join(this.dir, 'keys.json'), 'utf8')) as KeysFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (parsed === undefined) return this.save();
    this.receiptSecret = Buffer.from(parsed.receiptSecret, 'base64');
    for (const key of parsed.keys) this.keys.set(key.accessKeyId, key);
  }

  get receiptHandleSecret(): Buffer {
    return this.receiptSecret;
  }

  get(accessKeyId: string): AccessKey | undefined {
    return this.keys.get(accessKeyId);
  }

  list(): AccessKey[] {
    return [...this.keys.values()];
  }

  /** A new key pair for `user` (AWS's shapes: 20-character id, 40-character secret), or the given pair. */
  issue(user: string, vhost = '/', given?: { accessKeyId: string; secretAccessKey: string }): AccessKey {
    const key: AccessKey = {
      accessKeyId: given?.accessKeyId ?? `AKWR${randomBytes(12).toString('base64url').replace(/[-_]/g, 'X').toUpperCase().slice(0, 16)}`,
      secretAccessKey: given?.secretAccessKey ?? randomBytes(30).toString('base64'),
      user,
      vhost,
      created: Date.now(),
    };
    const existing = this.keys.get(key.accessKeyId);
    if (existing !== undefined && existing.user === key.user && existing.vhost === key.vhost && existing.secretAccessKey === key.secretAccessKey) return existing;
    this.keys.set(key.accessKeyId, key);
    this.save();
    return key;
  }

  revoke(accessKeyId: string): boolean {
    if (!this.keys.delete(accessKeyId)) return false;
    this.save();
    return true;
  }

  /** Resolves once every change so far is on disk. */
  flushed(): Promise<void> {
    return this.writing;
  }

  private save(): void {
    const dir = this.dir;
    if (dir === undefined) return;
    const content = JSON.stringify({ version: 1, receiptSecret: this.receiptSecret.toString('base64'), keys: this.list() } satisfies KeysFile);
    this.writing = this.writing.then(async () => {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const file = join(dir, 'keys.json');
      await writeFile(`${file}.tmp`, content, { mode: 0o600 });
      await rename(`${file}.tmp`, file);
    });
  }
}
