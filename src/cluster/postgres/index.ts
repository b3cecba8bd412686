export { findPostgresBinaries, postgresMissingReason, PostgresNotFoundError, type PostgresBinaries } from './binaries.js';
export { startThrowawayPostgres, type ThrowawayPostgres, type ThrowawayPostgresOptions } from './throwaway.js';
