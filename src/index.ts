/** Warren's public API for embedding the broker in a Node.js program. Internals stay unexported. */
export { WarrenServer, buildUserRegistry } from './server.js';
export type { ListenAddress, ListeningAddresses, WarrenServerOptions } from './server.js';
export { loadConfig, parseConfigText, ConfigError, DEFAULT_LIMITS as DEFAULT_CONFIG_LIMITS } from './config/index.js';
export type {
  WarrenConfig, LoadConfigOptions, ListenerConfig, TlsListenerConfig, LimitsConfig, LogConfig, LogLevel, UserConfig, VhostConfig, PermissionConfig,
} from './config/index.js';
export { createLogger, silentLogger } from './log.js';
export type { Logger, CreateLoggerOptions } from './log.js';
export { UserRegistry, hashPassword, verifyPassword } from './auth/index.js';
export type { User, AuthOutcome, Permissions } from './auth/index.js';
export { Broker } from './broker/index.js';
export type { BrokerOptions } from './broker/index.js';
export { AmqpListener } from './amqp/index.js';
export type { AmqpListenerOptions, AmqpLimits } from './amqp/index.js';
export { BrokerError, BrokerErrorKind } from './broker/errors.js';
export { ChannelError, ConnectionError, AmqpError } from './amqp/errors.js';
