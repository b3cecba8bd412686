export { UserRegistry } from './users.js';
export type { User, AuthOutcome, UserRegistryOptions, PermissionEntry, UserRegistryObserver } from './users.js';
export type { Permissions, PermissionPatterns, PermissionKind } from './permissions.js';
export { compilePermissions } from './permissions.js';
export { hashPassword, verifyPassword, isPasswordHash } from './password.js';
export { isLoopbackAddress } from './loopback.js';
export { scramCredential, scramCredentials, isScramCredentials, SCRAM_HASHES, DEFAULT_SCRAM_ITERATIONS } from './scram.js';
export type { ScramHash, ScramCredential, ScramCredentials } from './scram.js';
