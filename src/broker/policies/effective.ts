/**
 * Combining a queue's or exchange's own x-arguments with the policy that applies to it, by RabbitMQ's
 * rules (3.10+; rabbit_amqqueue_process:process_args_policy, rabbit_quorum_queue, rabbit_policy:get_arg):
 *
 * - numeric limits (message-ttl, expires, max-length, max-length-bytes, delivery-limit,
 *   consumer-timeout): when both are set, the LOWER value wins;
 * - every other key (overflow, dead-letter-*, queue-mode, queue-version, max-age, alternate-exchange,
 *   ...): the client's x-argument wins over the policy.
 *
 * Operator policies (a third source whose numeric values also merge by min) are not built yet.
 */
import { fieldNumber, fieldString, type FieldTable } from '../message.js';
import type { Overflow } from './definition.js';
import type { Policy } from './policy.js';

export interface EffectiveQueueSettings {
  /** Name of the policy that applies, if any. */
  readonly policy: string | undefined;
  readonly messageTtl: number | undefined;
  readonly expires: number | undefined;
  readonly maxLength: number | undefined;
  readonly maxLengthBytes: number | undefined;
  readonly overflow: Overflow | undefined;
  readonly deadLetterExchange: string | undefined;
  readonly deadLetterRoutingKey: string | undefined;
  readonly deadLetterStrategy: 'at-most-once' | 'at-least-once' | undefined;
  readonly deliveryLimit: number | undefined;
  readonly consumerTimeout: number | undefined;
  readonly maxAge: string | undefined;
  readonly queueMode: 'default' | 'lazy' | undefined;
  readonly queueVersion: number | undefined;
}

export interface EffectiveExchangeSettings {
  readonly policy: string | undefined;
  readonly alternateExchange: string | undefined;
}

function lowerOf(argument: number | undefined, policy: number | undefined): number | undefined {
  if (argument === undefined) return policy;
  if (policy === undefined) return argument;
  return Math.min(argument, policy);
}

function argumentNumber(args: FieldTable, key: string): number | undefined {
  return fieldNumber(args[key]);
}

function argumentString(args: FieldTable, key: string): string | undefined {
  return fieldString(args[key]);
}

/** The settings a queue runs with, from its x-arguments and the policy that applies (if any). */
export function resolveQueueSettings(args: FieldTable, policy: Policy | undefined): EffectiveQueueSettings {
  const d = policy?.definition ?? {};
  return {
    policy: policy?.name,
    messageTtl: lowerOf(argumentNumber(args, 'x-message-ttl'), d['message-ttl']),
    expires: lowerOf(argumentNumber(args, 'x-expires'), d.expires),
    maxLength: lowerOf(argumentNumber(args, 'x-max-length'), d['max-length']),
    maxLengthBytes: lowerOf(argumentNumber(args, 'x-max-length-bytes'), d['max-length-bytes']),
    deliveryLimit: lowerOf(argumentNumber(args, 'x-delivery-limit'), d['delivery-limit']),
    consumerTimeout: lowerOf(argumentNumber(args, 'x-consumer-timeout'), d['consumer-timeout']),
    overflow: (argumentString(args, 'x-overflow') as Overflow | undefined) ?? d.overflow,
    deadLetterExchange: argumentString(args, 'x-dead-letter-exchange') ?? d['dead-letter-exchange'],
    deadLetterRoutingKey: argumentString(args, 'x-dead-letter-routing-key') ?? d['dead-letter-routing-key'],
    deadLetterStrategy:
      (argumentString(args, 'x-dead-letter-strategy') as EffectiveQueueSettings['deadLetterStrategy']) ??
      d['dead-letter-strategy'],
    maxAge: argumentString(args, 'x-max-age') ?? d['max-age'],
    queueMode: (argumentString(args, 'x-queue-mode') as EffectiveQueueSettings['queueMode']) ?? d['queue-mode'],
    queueVersion: argumentNumber(args, 'x-queue-version') ?? d['queue-version'],
  };
}

/** An exchange's own 'alternate-exchange' argument wins over the policy's (rabbit_policy:get_arg). */
export function resolveExchangeSettings(args: FieldTable, policy: Policy | undefined): EffectiveExchangeSettings {
  return {
    policy: policy?.name,
    alternateExchange: argumentString(args, 'alternate-exchange') ?? policy?.definition['alternate-exchange'],
  };
}
