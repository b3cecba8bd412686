import http from 'node:http';
import https from 'node:https';

export interface HttpAnswer {
  status: number;
  text: string;
}

/**
 * One HTTP request on a keep-alive agent, body as a Buffer. The state client's batches go through
 * node:http instead of fetch: fetch streams a string body through web streams and clones the request,
 * which cost a job worker more CPU than everything else it did per job (profile of bench/jobs.ts).
 */
export function httpCall(agent: http.Agent, url: URL, method: string, headers: Record<string, string>, body: Buffer | undefined, timeoutMs: number): Promise<HttpAnswer> {
  return new Promise<HttpAnswer>((resolve, reject) => {
    const module = url.protocol === 'https:' ? https : http;
    const request = module.request(
      url,
      { method, agent, headers: body === undefined ? headers : { ...headers, 'content-length': String(body.length) }, timeout: timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    // A request stuck on a connection to a broker that went away is abandoned (and retried by the caller).
    request.on('timeout', () => request.destroy(new Error(`${method} ${url.pathname}: no answer in ${timeoutMs} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

export function keepAliveAgent(url: string): http.Agent {
  return url.startsWith('https:') ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
}
