import { fieldTypeName } from './arguments.js';
import { preconditionFailed } from './errors.js';
import type { FieldTable, FieldValue, Message } from './message.js';

/**
 * Sender-selected distribution (RabbitMQ's "CC" and "BCC" headers): arrays of long strings whose
 * entries are routing keys the message is routed by besides the publish's own. The header names are
 * case-sensitive; entries that are not strings are skipped, and a CC or BCC that is not an array
 * refuses the message, as rabbit_basic:header_routes does. BCC is removed before the message is
 * stored or delivered (rabbit_basic:message strips it); CC stays.
 */
export interface Recipients {
  /** The message to enqueue: without BCC when it had one. */
  readonly message: Message;
  /** The CC keys, then the BCC keys, in header order (repeats are harmless: routing dedupes queues). */
  readonly keys: readonly string[];
}

/** Undefined when the headers name no recipients: the message routes as usual. */
export function senderSelectedRecipients(message: Message, headers: FieldTable): Recipients | undefined {
  const cc = headers['CC'];
  const bcc = headers['BCC'];
  if (cc === undefined && bcc === undefined) return undefined;
  const keys = [...routingKeysIn('CC', cc), ...routingKeysIn('BCC', bcc)];
  return { message: bcc === undefined ? message : withoutBcc(message, headers), keys };
}

function routingKeysIn(header: string, value: FieldValue | undefined): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    // rabbit_channel answers rabbit_basic's {error, Reason} with "invalid message: ~p".
    throw preconditionFailed(`invalid message: {unacceptable_type_in_header,"${header}",${fieldTypeName(value)}}`);
  }
  return value.filter((entry): entry is string => typeof entry === 'string');
}

function withoutBcc(message: Message, headers: FieldTable): Message {
  const { BCC: _removed, ...kept } = headers;
  return message.withProperties({ ...message.properties, headers: kept });
}
