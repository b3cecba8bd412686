/** MQTT 5.0 properties (2.2.2.2): identifier, type and which packets may carry them. */
import type { Properties } from './packets.js';
import { malformed, protocolError } from './reason-codes.js';
import type { Reader } from './reader.js';
import { Writer } from './writer.js';

type Kind = 'byte' | 'u16' | 'u32' | 'varint' | 'string' | 'binary' | 'pair';

interface PropertySpec {
  readonly id: number;
  readonly name: keyof Properties;
  readonly kind: Kind;
  /** May appear more than once (user properties; subscription identifiers in PUBLISH). */
  readonly repeatable?: true;
}

const SPECS: readonly PropertySpec[] = [
  { id: 0x01, name: 'payloadFormatIndicator', kind: 'byte' },
  { id: 0x02, name: 'messageExpiryInterval', kind: 'u32' },
  { id: 0x03, name: 'contentType', kind: 'string' },
  { id: 0x08, name: 'responseTopic', kind: 'string' },
  { id: 0x09, name: 'correlationData', kind: 'binary' },
  { id: 0x0b, name: 'subscriptionIdentifiers', kind: 'varint', repeatable: true },
  { id: 0x11, name: 'sessionExpiryInterval', kind: 'u32' },
  { id: 0x12, name: 'assignedClientIdentifier', kind: 'string' },
  { id: 0x13, name: 'serverKeepAlive', kind: 'u16' },
  { id: 0x15, name: 'authenticationMethod', kind: 'string' },
  { id: 0x16, name: 'authenticationData', kind: 'binary' },
  { id: 0x17, name: 'requestProblemInformation', kind: 'byte' },
  { id: 0x18, name: 'willDelayInterval', kind: 'u32' },
  { id: 0x19, name: 'requestResponseInformation', kind: 'byte' },
  { id: 0x1a, name: 'responseInformation', kind: 'string' },
  { id: 0x1c, name: 'serverReference', kind: 'string' },
  { id: 0x1f, name: 'reasonString', kind: 'string' },
  { id: 0x21, name: 'receiveMaximum', kind: 'u16' },
  { id: 0x22, name: 'topicAliasMaximum', kind: 'u16' },
  { id: 0x23, name: 'topicAlias', kind: 'u16' },
  { id: 0x24, name: 'maximumQos', kind: 'byte' },
  { id: 0x25, name: 'retainAvailable', kind: 'byte' },
  { id: 0x26, name: 'userProperties', kind: 'pair', repeatable: true },
  { id: 0x27, name: 'maximumPacketSize', kind: 'u32' },
  { id: 0x28, name: 'wildcardSubscriptionAvailable', kind: 'byte' },
  { id: 0x29, name: 'subscriptionIdentifierAvailable', kind: 'byte' },
  { id: 0x2a, name: 'sharedSubscriptionAvailable', kind: 'byte' },
];

const BY_ID = new Map(SPECS.map((s) => [s.id, s]));

/** Reads a property block: its varint length, then the properties (2.2.2). */
export function readProperties(reader: Reader): Properties {
  const length = reader.varint();
  const block = reader.slice(length);
  const out: Record<string, unknown> = {};
  while (block.remaining > 0) {
    const id = block.varint();
    const spec = BY_ID.get(id);
    if (spec === undefined) throw malformed(`unknown property identifier 0x${id.toString(16)}`);
    const value = readValue(block, spec.kind);
    if (spec.repeatable) {
      ((out[spec.name] ??= []) as unknown[]).push(value);
    } else {
      // 2.2.2.2: including a property more than once is a Protocol Error.
      if (spec.name in out) throw protocolError(`property ${spec.name} appears twice`);
      out[spec.name] = value;
    }
  }
  return out as Properties;
}

function readValue(reader: Reader, kind: Kind): unknown {
  switch (kind) {
    case 'byte': return reader.u8();
    case 'u16': return reader.u16();
    case 'u32': return reader.u32();
    case 'varint': return reader.varint();
    case 'string': return reader.string();
    case 'binary': return Buffer.from(reader.binary());
    case 'pair': return [reader.string(), reader.string()];
  }
}

/** Writes a property block (length first). Undefined properties are left out. */
export function writeProperties(writer: Writer, properties: Properties | undefined): void {
  if (properties === undefined) return void writer.u8(0);
  const block = new Writer(32);
  for (const spec of SPECS) {
    const value = properties[spec.name];
    if (value === undefined) continue;
    const values = spec.repeatable ? (value as unknown[]) : [value];
    for (const one of values) {
      block.varint(spec.id);
      writeValue(block, spec.kind, one);
    }
  }
  writer.varint(block.length).bytes(block.toBuffer());
}

function writeValue(writer: Writer, kind: Kind, value: unknown): void {
  switch (kind) {
    case 'byte': return void writer.u8(value as number);
    case 'u16': return void writer.u16(value as number);
    case 'u32': return void writer.u32(value as number);
    case 'varint': return void writer.varint(value as number);
    case 'string': return void writer.string(value as string);
    case 'binary': return void writer.binary(value as Buffer);
    case 'pair': {
      const [k, v] = value as [string, string];
      return void writer.string(k).string(v);
    }
  }
}
