import { runStoreSuite } from './store-suite.js';
import { logFixture } from './fixtures.js';

runStoreSuite('LogStore', logFixture());
runStoreSuite('LogStore with tiny segments and write buffer', logFixture({ segmentBytes: 16 * 1024, writeBufferBytes: 2048 }));
runStoreSuite('LogStore, periodic sync', logFixture({ sync: { mode: 'periodic', intervalMs: 5 } }));
