/**
 * Every route of the API, one table. A new group of endpoints is a module exporting its `Route[]`
 * and one line here. Order matters only where patterns overlap: a literal path (`/images/json`)
 * before the `{name*}` pattern that would also match it (each module lists its literals first).
 */
import { CONTAINER_ROUTES } from './containers.js';
import { IMAGE_ROUTES } from './images.js';
import type { Route } from './router.js';
import { SYSTEM_ROUTES } from './system.js';
import { VOLUME_NETWORK_ROUTES } from './volumes-networks.js';
import { attachRoutes } from './attach.js';
import { buildRoutes } from './build.js';
import { containerImageRoutes } from './container-image.js';
import { eventRoutes } from './events.js';
import { execRoutes } from './exec-start.js';
import { imageArchiveRoutes } from './image-archive.js';
import { statsRoutes } from './stats.js';

export const ROUTES: readonly Route[] = [
  ...SYSTEM_ROUTES,
  ...CONTAINER_ROUTES,
  ...attachRoutes,
  ...containerImageRoutes,
  ...execRoutes,
  ...statsRoutes,
  ...buildRoutes,
  ...eventRoutes,
  // before IMAGE_ROUTES: /images/get and /images/load are literal paths its {name*} would match
  ...imageArchiveRoutes,
  ...IMAGE_ROUTES,
  ...VOLUME_NETWORK_ROUTES,
];
