/** Where and as whom `warren ctl` talks to a broker's management API. */
export interface CtlConnection {
  url: string;
  user: string;
  password: string;
}

/** A non-2xx answer, carrying RabbitMQ's {error, reason} when the body has one. */
export class ManagementApiError extends Error {
  constructor(
    readonly status: number,
    reason: string,
  ) {
    super(`${status} ${reason}`);
    this.name = 'ManagementApiError';
  }
}

/** Percent-encodes one path segment ('/' becomes %2F, as the API wants vhost names). */
export const segment = (name: string): string => encodeURIComponent(name);

/** A minimal client of the management API over Node's fetch. */
export class ManagementClient {
  private readonly authorization: string;
  private readonly base: string;

  constructor(connection: CtlConnection) {
    this.base = connection.url.replace(/\/+$/, '');
    this.authorization = `Basic ${Buffer.from(`${connection.user}:${connection.password}`).toString('base64')}`;
  }

  get<T = unknown>(path: string): Promise<T> {
    return this.request('GET', path) as Promise<T>;
  }

  put(path: string, body: unknown): Promise<unknown> {
    return this.request('PUT', path, body);
  }

  post<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request('POST', path, body) as Promise<T>;
  }

  delete(path: string): Promise<unknown> {
    return this.request('DELETE', path);
  }

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const headers: Record<string, string> = { authorization: this.authorization };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${this.base}/api${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    const parsed = text === '' ? undefined : parseJson(text);
    if (!response.ok) throw new ManagementApiError(response.status, reasonOf(parsed) ?? (response.statusText || 'request failed'));
    return parsed;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function reasonOf(body: unknown): string | undefined {
  if (body === null || typeof body !== 'object') return typeof body === 'string' && body !== '' ? body : undefined;
  const { error, reason } = body as { error?: unknown; reason?: unknown };
  if (typeof reason === 'string') return typeof error === 'string' ? `${error}: ${reason}` : reason;
  return undefined;
}
