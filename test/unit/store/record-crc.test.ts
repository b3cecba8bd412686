import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32 } from 'node:zlib';
import { RECORD_PREFIX, SHORT_CRC_BYTES, checkRecord, recordCrc, sealRecord } from '../../../src/store/record.js';
import { slicedCrc32 } from '../../../src/util/sliced-crc.js';

test('the JavaScript CRC-32 gives the standard check value and the CRC-32C too', () => {
  const check = Buffer.from('123456789');
  assert.equal(slicedCrc32(0xedb88320)(check), 0xcbf43926);
  assert.equal(slicedCrc32(0x82f63b78)(check), 0xe3069283);
});

test("a record's CRC is zlib's at every length on both sides of SHORT_CRC_BYTES, at any offset", () => {
  const bytes = Buffer.alloc(4 * SHORT_CRC_BYTES);
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 131 + 7) & 0xff;
  for (let length = 0; length <= 2 * SHORT_CRC_BYTES + 9; length++) {
    for (const start of [0, 1, 3, 8]) {
      assert.equal(recordCrc(bytes, start, start + length), crc32(bytes.subarray(start, start + length)), `length ${length} at ${start}`);
    }
  }
});

test('a short sealed record fails its check when any byte after the CRC changes', () => {
  const record = Buffer.alloc(RECORD_PREFIX + 13);
  record[RECORD_PREFIX] = 3;
  record.writeUInt32LE(42, RECORD_PREFIX + 1);
  sealRecord(record, 0, record.length);
  assert.equal(checkRecord(record, 0, record.length), 'ok');
  for (let i = RECORD_PREFIX; i < record.length; i++) {
    const damaged = Buffer.from(record);
    damaged[i] = damaged[i]! ^ 0x10;
    assert.equal(checkRecord(damaged, 0, damaged.length), 'bad', `byte ${i}`);
  }
});
