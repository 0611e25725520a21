/**
 * Every route of the API, one table. A new group of endpoints is a module exporting its `Route[]`
 * and one line here. Order matters only where patterns overlap: a literal path (`/images/json`)
 * before the `{name*}` pattern that would also match it.
 */
import type { Route } from './router.js';
import { SYSTEM_ROUTES } from './system.js';
import { attachRoutes } from './attach.js';
import { buildRoutes } from './build.js';
import { eventRoutes } from './events.js';
import { execRoutes } from './exec-start.js';
import { imageArchiveRoutes } from './image-archive.js';
import { logsRoutes } from './logs-follow.js';
import { statsRoutes } from './stats.js';

export const ROUTES: readonly Route[] = [
  ...SYSTEM_ROUTES,
  ...attachRoutes,
  ...execRoutes,
  ...logsRoutes,
  ...statsRoutes,
  ...buildRoutes,
  ...eventRoutes,
  ...imageArchiveRoutes,
];
