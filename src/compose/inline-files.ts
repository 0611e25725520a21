/**
 * Configs and secrets given inline (`content:`) or from a project variable (`environment:`): written
 * once per project under DATAROOT/compose-files/PROJECT (0700, each file 0600: a secret is readable
 * by its owner only, as a file source's own mode would decide) and then bind-mounted read-only like
 * a `file:` source. `down` removes them with the project.
 */
import fs from 'node:fs';
import path from 'node:path';
import { dataRoot } from '../paths.js';
import type { RtService } from './project-runtime.js';

const filesDir = (project: string) => path.join(dataRoot(), 'compose-files', project);

/** The service with every inline config/secret written out and named by its host path. */
export function materialiseFiles(project: string, s: RtService): RtService {
  if (!s.files.some((f) => f.content !== undefined)) return s;
  const dir = filesDir(project);
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = s.files.map((f) => {
    if (f.content === undefined) return f;
    const file = path.join(dir, f.key);
    // Written beside and renamed: a running container bound to the old file keeps its content whole.
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, f.content, { mode: 0o600 });
    fs.renameSync(tmp, file);
    return { source: file, target: f.target, key: f.key };
  });
  return { ...s, files };
}

export function removeFiles(project: string): void {
  fs.rmSync(filesDir(project), { recursive: true, force: true });
}
