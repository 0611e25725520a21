/**
 * Exec instances of the API: `POST /containers/{id}/exec` makes one (nothing runs yet), `exec/{id}/start`
 * (the streaming part) runs it, `exec/{id}/json` shows it. They live in the server's memory, as
 * docker's do in its daemon: a restarted service has none, and their processes do not depend on it.
 */
import { randomBytes } from 'node:crypto';

export interface ExecInstance {
  readonly id: string;
  readonly containerId: string;
  readonly command: string[];
  readonly tty: boolean;
  readonly attachStdin: boolean;
  readonly attachStdout: boolean;
  readonly attachStderr: boolean;
  readonly env: string[];
  readonly user?: string;
  readonly workdir?: string;
  readonly detachKeys: string;
  running: boolean;
  exitCode: number | null;
  pid: number;
  /** A tty's size: create's ConsoleSize, then the last `resize`. */
  size?: { rows: number; cols: number };
  /** While a tty instance runs: resizes its pty. */
  resize?: (rows: number, cols: number) => void;
  /** A start waiting for the client's first resize: called when it comes. */
  sized?: () => void;
}

const execs = new Map<string, ExecInstance>();
/** Old finished instances go, so that a long-lived service does not grow. */
const KEEP = 1000;

export function addExec(e: Omit<ExecInstance, 'id' | 'running' | 'exitCode' | 'pid' | 'resize' | 'sized'>): ExecInstance {
  const inst: ExecInstance = { ...e, id: randomBytes(32).toString('hex'), running: false, exitCode: null, pid: 0 };
  execs.set(inst.id, inst);
  if (execs.size > KEEP) {
    for (const [id, x] of execs) {
      if (!x.running) execs.delete(id);
      if (execs.size <= KEEP) break;
    }
  }
  return inst;
}

export function getExec(id: string): ExecInstance | undefined {
  return execs.get(id);
}
