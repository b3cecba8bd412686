export { loadConfig, resolveLayers, DEFAULT_LIMITS, DEFAULT_STORE, DEFAULT_AMQP, DEFAULT_HTTP, DEFAULT_AMQPS_PORT } from './load.js';
export type { LoadConfigOptions } from './load.js';
export { parseConfigText, readConfigFile } from './file.js';
export { SCALAR_SETTINGS, OTHER_ENV_VARIABLES, layerFromEnvironment, layerFromFlags, unknownEnvironmentVariables } from './settings.js';
export type { ScalarSetting, Environment } from './settings.js';
export { ConfigError, LOG_LEVELS, SYNC_MODES } from './types.js';
export type {
  WarrenConfig, StoreConfig, SyncMode, ListenerConfig, TlsListenerConfig, LimitsConfig, LogConfig, LogLevel, UserConfig, VhostConfig, PermissionConfig, ConfigLayer,
} from './types.js';
