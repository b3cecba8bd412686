import { createHash } from 'node:crypto';
import { digestHex } from './digest.js';
import type { MessageAttributeValue } from './message-attributes.js';

export function md5Hex(data: Buffer | string): string {
  return digestHex('md5', data);
}

const STRING_TRANSPORT = 1;
const BINARY_TRANSPORT = 2;

/**
 * MD5OfMessageAttributes as the SDKs verify it (SQS developer guide, "Calculating the MD5 message
 * digest for message attributes"): attributes sorted by name; for each, the name, the data type (each
 * a 4-byte big-endian length and UTF-8 bytes), one transport byte (1 string, 2 binary) and the value
 * (length-prefixed UTF-8 or bytes). Undefined when there are no attributes (SQS then omits the member).
 */
export function md5OfAttributes(attributes: Readonly<Record<string, MessageAttributeValue>>): string | undefined {
  const names = Object.keys(attributes).sort();
  if (names.length === 0) return undefined;
  const hash = createHash('md5');
  for (const name of names) {
    const attribute = attributes[name]!;
    lengthPrefixed(hash, Buffer.from(name, 'utf8'));
    lengthPrefixed(hash, Buffer.from(attribute.DataType, 'utf8'));
    if (attribute.BinaryValue !== undefined) {
      hash.update(Buffer.from([BINARY_TRANSPORT]));
      lengthPrefixed(hash, attribute.BinaryValue);
    } else {
      hash.update(Buffer.from([STRING_TRANSPORT]));
      lengthPrefixed(hash, Buffer.from(attribute.StringValue ?? '', 'utf8'));
    }
  }
  return hash.digest('hex');
}

function lengthPrefixed(hash: ReturnType<typeof createHash>, bytes: Buffer): void {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  hash.update(length).update(bytes);
}
