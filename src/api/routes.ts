/**
 * Every route of the API, one table. A new group of endpoints is a module exporting its `Route[]`
 * and one line here. Order matters only where patterns overlap: a literal path (`/images/json`)
 * before the `{name*}` pattern that would also match it.
 */
import type { Route } from './router.js';
import { SYSTEM_ROUTES } from './system.js';

export const ROUTES: readonly Route[] = [...SYSTEM_ROUTES];
