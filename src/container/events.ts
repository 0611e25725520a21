/**
 * Container events for the journal (store/events.ts), with the attributes docker gives them: the
 * image as the user named it, the name, and the container's labels. The monitor writes `start`,
 * `die` and `health_status` itself (shim monitor.c): monitorEventSpec hands it the file and the
 * attributes, already as JSON, so the C side only adds its own few fields.
 */
import { appendEvent, eventPaths } from '../store/events.js';
import type { ContainerRecord } from './types.js';

export function containerAttributes(c: ContainerRecord, extra: Record<string, string> = {}): Record<string, string> {
  return { ...c.config.labels, image: c.config.image, name: c.name, ...extra };
}

export function containerEvent(c: ContainerRecord, action: string, extra: Record<string, string> = {}): void {
  appendEvent('container', action, c.id, containerAttributes(c, extra));
}

/** The monitor's spec entries: where to append, and the attributes as the inside of a JSON object. */
export function monitorEventSpec(c: ContainerRecord): [string, string][] {
  const attrs = JSON.stringify(containerAttributes(c));
  return [
    ['events-file', eventPaths.log()],
    ['event-attrs', attrs.slice(1, -1)],
  ];
}
