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

export const ROUTES: readonly Route[] = [...SYSTEM_ROUTES, ...CONTAINER_ROUTES, ...IMAGE_ROUTES, ...VOLUME_NETWORK_ROUTES];
