import type { FastifyInstance } from 'fastify';
import type { ManagementContext } from '../context.js';
import { registerBindingRoutes } from './bindings.js';
import { registerChannelRoutes } from './channels.js';
import { registerConnectionRoutes } from './connections.js';
import { registerConsumerRoutes } from './consumers.js';
import { registerDefinitionRoutes } from './definitions.js';
import { registerExchangeRoutes } from './exchanges.js';
import { registerNodeRoutes } from './nodes.js';
import { registerOverviewRoutes } from './overview.js';
import { registerPermissionRoutes } from './permissions.js';
import { registerPolicyRoutes } from './policies.js';
import { registerParameterRoutes } from './parameters.js';
import { registerLinkRoutes } from './links.js';
import { registerQueueRoutes } from './queues.js';
import { registerRecordRoutes } from './records.js';
import { registerTopicPermissionRoutes } from './topic-permissions.js';
import { registerUserRoutes } from './users.js';
import { registerVhostRoutes } from './vhosts.js';

/** Every /api resource, one module each. */
export function registerRoutes(app: FastifyInstance, context: ManagementContext): void {
  for (const register of [
    registerOverviewRoutes,
    registerNodeRoutes,
    registerVhostRoutes,
    registerUserRoutes,
    registerPermissionRoutes,
    registerExchangeRoutes,
    registerQueueRoutes,
    registerBindingRoutes,
    registerConnectionRoutes,
    registerChannelRoutes,
    registerConsumerRoutes,
    registerPolicyRoutes,
    registerParameterRoutes,
    registerLinkRoutes,
    registerDefinitionRoutes,
    registerRecordRoutes,
    registerTopicPermissionRoutes,
  ]) {
    register(app, context);
  }
}
