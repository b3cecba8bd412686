import type { ServerResponse } from 'node:http';

/**
 * Sends a whole answer with a Content-Length. node:http builds the head in writeHead, before it knows
 * the body, so writeHead + end(body) without one is a chunked response: five buffers in the write (head,
 * chunk size, body, CRLF, the last chunk) and chunk parsing on the client for every call. With the
 * length known, node joins head and body into one string and writes it once. Returns the body's bytes.
 */
export function respond(response: ServerResponse, status: number, headers: Record<string, string>, body: string): number {
  const length = Buffer.byteLength(body);
  headers['content-length'] = String(length);
  response.writeHead(status, headers);
  response.end(body);
  return length;
}
