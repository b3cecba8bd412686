import { StompRequestError } from './errors.js';

/**
 * RabbitMQ's STOMP destinations (RabbitMQ docs, "STOMP Plugin", "Destinations"):
 * - `/queue/<name>`: a queue the plugin declares if missing; SEND goes through the default exchange.
 * - `/amq/queue/<name>`: a queue that must already exist (never declared).
 * - `/topic/<key>`: `amq.topic` with that routing key; a SUBSCRIBE gets its own queue bound with it.
 * - `/exchange/<exchange>[/<key>]`: any existing exchange; SUBSCRIBE binds its own queue with the key.
 * - `/temp-queue/<name>`: only in a SEND's reply-to: a private reply queue of the session.
 * - `/reply-queue/<name>`: the address a temp queue was rewritten to, where replies are sent.
 */
export type Destination =
  | { readonly kind: 'queue'; readonly queue: string }
  | { readonly kind: 'amq-queue'; readonly queue: string }
  | { readonly kind: 'topic'; readonly key: string }
  | { readonly kind: 'exchange'; readonly exchange: string; readonly key: string }
  | { readonly kind: 'temp-queue'; readonly name: string }
  | { readonly kind: 'reply-queue'; readonly queue: string };

export function parseDestination(text: string): Destination {
  const d = tryParse(text);
  if (d === undefined) {
    throw new StompRequestError(
      'Unknown destination',
      `'${text}' is not a valid destination.\nValid destination types are: /exchange, /topic, /queue, /amq/queue, /temp-queue and /reply-queue.`,
    );
  }
  return d;
}

function tryParse(text: string): Destination | undefined {
  const queue = nameAfter(text, '/queue/');
  if (queue !== undefined) return { kind: 'queue', queue };
  const amq = nameAfter(text, '/amq/queue/');
  if (amq !== undefined) return { kind: 'amq-queue', queue: amq };
  if (text.startsWith('/topic/')) return { kind: 'topic', key: decodePart(text.slice(7)) };
  const temp = nameAfter(text, '/temp-queue/');
  if (temp !== undefined) return { kind: 'temp-queue', name: temp };
  const reply = nameAfter(text, '/reply-queue/');
  if (reply !== undefined) return { kind: 'reply-queue', queue: reply };
  if (text.startsWith('/exchange/')) {
    const rest = text.slice(10);
    const slash = rest.indexOf('/');
    const exchange = decodePart(slash < 0 ? rest : rest.slice(0, slash));
    if (exchange === '') return undefined;
    return { kind: 'exchange', exchange, key: slash < 0 ? '' : decodePart(rest.slice(slash + 1)) };
  }
  return undefined;
}

/** A non-empty name with no further '/' (a '/' inside a name is written %2F, as RabbitMQ expects). */
function nameAfter(text: string, prefix: string): string | undefined {
  if (!text.startsWith(prefix)) return undefined;
  const rest = text.slice(prefix.length);
  if (rest === '' || rest.includes('/')) return undefined;
  return decodePart(rest);
}

function decodePart(part: string): string {
  if (!part.includes('%')) return part;
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

/** The destination header a MESSAGE carries for a message routed by (exchange, key). */
export function destinationOf(exchange: string, routingKey: string): string {
  if (exchange === '') return `/queue/${routingKey}`;
  if (exchange === 'amq.topic') return `/topic/${routingKey}`;
  return `/exchange/${exchange}/${routingKey}`;
}
