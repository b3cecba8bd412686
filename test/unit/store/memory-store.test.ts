import { MemoryStore } from '../../../src/store/memory-store.js';
import { runStoreSuite } from './store-suite.js';

runStoreSuite('MemoryStore', async () => ({ create: () => new MemoryStore(), cleanup: async () => undefined }));
