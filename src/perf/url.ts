/** Where and as whom to connect, from an `amqp://user:pass@host:port/vhost` URL (RabbitMQ's URI spec). */
export interface AmqpEndpoint {
  host: string;
  port: number;
  username: string;
  password: string;
  vhost: string;
}

export function parseAmqpUrl(url: string): AmqpEndpoint {
  const parsed = new URL(url);
  if (parsed.protocol !== 'amqp:') {
    throw new Error(`unsupported URL scheme '${parsed.protocol}' (warren perf speaks plain amqp://)`);
  }
  // "/%2f" names vhost '/'. An empty vhost is never what a load test means, so "" and "/" also give '/'
  // (as amqplib does), unlike RabbitMQ's URI spec where "/" alone names the vhost "".
  const name = decodeURIComponent(parsed.pathname.slice(1));
  const vhost = name === '' ? '/' : name;
  return {
    host: parsed.hostname === '' ? '127.0.0.1' : parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port === '' ? 5672 : Number(parsed.port),
    username: parsed.username === '' ? 'guest' : decodeURIComponent(parsed.username),
    password: parsed.password === '' ? 'guest' : decodeURIComponent(parsed.password),
    vhost,
  };
}
