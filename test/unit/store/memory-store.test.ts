import { MemoryImage, MemoryStore } from '../../../src/store/memory-store.js';
import { runStoreSuite } from './store-suite.js';

runStoreSuite('MemoryStore', async () => ({ create: () => new MemoryStore(), cleanup: async () => undefined }));

// The same contract with a backing image (so a reopen recovers) and reads answered after random delays,
// as a network store would answer them.
runStoreSuite('MemoryStore with an image and slow reads', async () => {
  const image = new MemoryImage();
  return { create: () => new MemoryStore({ image, readDelayMs: () => Math.random() * 5 }), cleanup: async () => undefined };
});
