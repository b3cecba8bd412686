import { slicedCrc32 } from '../../util/sliced-crc.js';

/**
 * CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of Kafka record batches v2
 * (KIP-98). node:zlib has only CRC-32 (IEEE), so this is table-driven.
 */
export const crc32c = slicedCrc32(0x82f63b78);
