import http from 'node:http';
import https from 'node:https';

export interface PostAnswer {
  status: number;
  retryAfter: string | null;
}

/**
 * One POST to a push endpoint on a keep-alive agent (one per push queue), the body a Buffer. node:http
 * instead of fetch: fetch wraps every body in a web stream and clones the request, which held a push
 * queue to ~200 deliveries/s on the benchmark machine whatever its concurrency (bench/push.ts).
 * node:http never follows redirects (none are followed: a redirect could lead where the guard refuses).
 * The answer's body is read and dropped. `signal` aborts the request (timeout, queue stopped).
 */
export function postOnce(agent: http.Agent, url: URL, headers: Record<string, string>, body: Buffer, signal: AbortSignal): Promise<PostAnswer> {
  return new Promise<PostAnswer>((resolve, reject) => {
    const module = url.protocol === 'https:' ? https : http;
    const request = module.request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) }, signal }, (response) => {
      response.on('data', () => undefined);
      response.on('end', () => {
        const retryAfter = response.headers['retry-after'];
        resolve({ status: response.statusCode ?? 0, retryAfter: typeof retryAfter === 'string' ? retryAfter : null });
      });
      response.on('error', reject);
    });
    request.on('error', (error) => reject(signal.aborted && signal.reason instanceof Error ? signal.reason : error));
    request.end(body);
  });
}

/** Connections to one endpoint are kept open between requests, at most `sockets` at once. */
export function endpointAgent(url: URL, sockets: number): http.Agent {
  const options = { keepAlive: true, maxSockets: sockets };
  return url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
}
