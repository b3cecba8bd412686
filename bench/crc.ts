/**
 * The store's record CRC-32 two ways, per record size: node:zlib's crc32 (a native call and a subarray
 * view per record) against the JavaScript slicing-by-8 table (src/util/sliced-crc.ts), which sets the
 * store's SHORT_CRC_BYTES (src/store/record.ts).
 *   node dist/bench/crc.js [sizes=13,17,40,64,100,128,160,256,1024] [calls=2000000]
 */
import { crc32 } from 'node:zlib';
import { slicedCrc32 } from '../src/util/sliced-crc.js';
import { exitOnHelp } from './harness/usage.js';

exitOnHelp(import.meta.url);

const sizes = (process.argv[2] ?? '13,17,40,64,100,128,160,256,1024').split(',').map(Number);
const calls = Number(process.argv[3] ?? 2_000_000);
const inJs = slicedCrc32(0xedb88320);
const bytes = Buffer.alloc(1 << 20);
for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 7919) & 0xff;

/** Nanoseconds per call of `crc` over `size` bytes at offsets spread through the buffer. */
function nsPerCall(size: number, crc: (start: number) => number): number {
  let sink = 0;
  const started = performance.now();
  for (let k = 0; k < calls; k++) sink ^= crc((k * 64) & 0xfff00);
  const ns = ((performance.now() - started) * 1e6) / calls;
  if (sink === 0.5) console.log(sink);
  return ns;
}

console.log('bytes  zlib ns  js ns');
for (const size of sizes) {
  if (inJs(bytes, 0, size) !== crc32(bytes.subarray(0, size))) throw new Error(`the two CRCs differ at ${size} bytes`);
  const zlib = nsPerCall(size, (start) => crc32(bytes.subarray(start, start + size)));
  const js = nsPerCall(size, (start) => inJs(bytes, start, start + size));
  console.log(`${String(size).padStart(5)}  ${zlib.toFixed(0).padStart(7)}  ${js.toFixed(0).padStart(5)}`);
}
