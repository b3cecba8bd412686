import { BrokerError, BrokerErrorKind } from '../broker/errors.js';

/**
 * Storage failures are internal errors as far as clients are concerned; a data dir in use is a resource
 * error. The broker decides whom to tell; these only carry the kind and the reason.
 */
export class StoreError extends BrokerError {
  constructor(message: string, options?: { cause?: unknown }, kind: BrokerErrorKind = BrokerErrorKind.InternalError) {
    super(kind, message, undefined, options);
    this.name = 'StoreError';
  }
}

/** An earlier write or fsync failed: the store refuses to claim durability for anything from now on. */
export class StoreFailedError extends StoreError {
  constructor(cause: unknown) {
    super(`message store failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'StoreFailedError';
  }
}

/** Another live process holds the data dir. */
export class DataDirLockedError extends StoreError {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
  ) {
    super(
      `data directory ${dataDir} is in use by process ${holderPid} (another Warren broker?); ` +
        `stop it or use another data dir`,
      undefined,
      BrokerErrorKind.ResourceError,
    );
    this.name = 'DataDirLockedError';
  }
}

/** A file this version cannot read (wrong magic, newer format version) or a damaged record read at run time. */
export class StoreFormatError extends StoreError {
  constructor(message: string) {
    super(message);
    this.name = 'StoreFormatError';
  }
}

/** `read`/`remove` of a handle the store does not know (already removed and compacted away, or bogus). */
export class UnknownHandleError extends StoreError {
  constructor(handle: number) {
    super(`no stored message for handle ${handle}`);
    this.name = 'UnknownHandleError';
  }
}
