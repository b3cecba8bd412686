/**
 * A lean SQS client for load generation: the AWS JSON 1.0 protocol over node:http with a keep-alive
 * agent, every request signed with SigV4 (so a server that verifies signatures pays for it). It exists
 * because @aws-sdk/client-sqs spends ~1-3 ms of CPU per call in middleware, which made the SDK the
 * ceiling of the last benchmark; the benchmark still runs the real SDK against every server first to
 * check that the server answers it correctly (bench/sqs.ts, `sdkCheck`).
 *
 * Signing follows "Create a signed AWS API request" (SigV4): the canonical request over method, path
 * `/`, empty query, the headers content-type;host;x-amz-date;x-amz-target and the body's SHA-256. The
 * signing key depends only on the secret, day, region and service, so it is derived once per day.
 */
import { createHash, createHmac } from 'node:crypto';
import { Agent, request } from 'node:http';

export interface LeanCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

const CONTENT_TYPE = 'application/x-amz-json-1.0';
const SIGNED_HEADERS = 'content-type;host;x-amz-date;x-amz-target';

export class SqsCallError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`SQS answered ${status}: ${body.slice(0, 300)}`);
  }
}

export class LeanSqsClient {
  private readonly agent: Agent;
  private readonly hostname: string;
  private readonly port: number;
  private readonly hostHeader: string;
  private day = '';
  private signingKey: Buffer = Buffer.alloc(0);

  constructor(
    endpoint: string,
    private readonly credentials: LeanCredentials,
    private readonly region = 'us-east-1',
    sockets = 64,
  ) {
    const url = new URL(endpoint);
    this.hostname = url.hostname;
    this.port = Number(url.port || 80);
    this.hostHeader = url.host;
    this.agent = new Agent({ keepAlive: true, maxSockets: sockets });
  }

  /** One action; resolves with the parsed JSON answer, rejects with SqsCallError on a non-2xx. */
  call<T = Record<string, unknown>>(action: string, input: object): Promise<T> {
    const body = JSON.stringify(input);
    const target = `AmazonSQS.${action}`;
    const amzDate = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
    const day = amzDate.slice(0, 8);
    if (day !== this.day) this.deriveKey(day);
    const canonical = `POST\n/\n\ncontent-type:${CONTENT_TYPE}\nhost:${this.hostHeader}\nx-amz-date:${amzDate}\nx-amz-target:${target}\n\n${SIGNED_HEADERS}\n${sha256Hex(body)}`;
    const scope = `${day}/${this.region}/sqs/aws4_request`;
    const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
    const signature = createHmac('sha256', this.signingKey).update(stringToSign).digest('hex');
    const headers = {
      'content-type': CONTENT_TYPE,
      'content-length': Buffer.byteLength(body),
      host: this.hostHeader,
      'x-amz-date': amzDate,
      'x-amz-target': target,
      authorization: `AWS4-HMAC-SHA256 Credential=${this.credentials.accessKeyId}/${scope}, SignedHeaders=${SIGNED_HEADERS}, Signature=${signature}`,
    };
    return new Promise<T>((resolve, reject) => {
      const req = request({ hostname: this.hostname, port: this.port, method: 'POST', path: '/', headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) return reject(new SqsCallError(status, text));
          try {
            resolve((text === '' ? {} : JSON.parse(text)) as T);
          } catch (error) {
            reject(error as Error);
          }
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  destroy(): void {
    this.agent.destroy();
  }

  private deriveKey(day: string): void {
    const k = (key: string | Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest();
    this.signingKey = k(k(k(k(`AWS4${this.credentials.secretAccessKey}`, day), this.region), 'sqs'), 'aws4_request');
    this.day = day;
  }
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
