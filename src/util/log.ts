/** Diagnostics go to stderr so that stdout stays clean for scripts. */
const LEVELS = { error: 0, warn: 1, info: 2, debug: 3 } as const;
export type LogLevel = keyof typeof LEVELS;

let level: number = LEVELS.warn;

export function setLogLevel(name: string): boolean {
  if (!(name in LEVELS)) return false;
  level = LEVELS[name as LogLevel];
  return true;
}

export const log = {
  debug: (msg: string) => level >= LEVELS.debug && process.stderr.write(`DEBU ${msg}\n`),
  info: (msg: string) => level >= LEVELS.info && process.stderr.write(`INFO ${msg}\n`),
  warn: (msg: string) => level >= LEVELS.warn && process.stderr.write(`WARNING: ${msg}\n`),
  isDebug: () => level >= LEVELS.debug,
};
