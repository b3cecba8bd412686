/**
 * Every subcommand of `warren`, one module each. Each export is `(program: Command) => void`; adding a
 * command is one line here, e.g. `export { registerPerfCommand } from './perf-command.js';
export { registerCtlCommand } from './ctl-command.js';`.
 */
export { registerServerCommand } from './server-command.js';
export { registerPerfCommand } from './perf-command.js';
export { registerCtlCommand } from './ctl-command.js';
export { registerClusterCommand } from './cluster-command.js';
