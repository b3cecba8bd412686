export type * from './store.js';
export { LogStore, type LogStoreOptions } from './log-store.js';
export { MemoryStore, MemoryImage, type MemoryStoreOptions } from './memory-store.js';
export { RealFileSystem, type FileSystem } from './fs.js';
export { FaultyFileSystem, type FaultOptions } from './faulty-fs.js';
export { StoreError, StoreFailedError, DataDirLockedError, StoreFormatError, UnknownHandleError } from './errors.js';
