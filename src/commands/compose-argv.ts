/**
 * docker compose takes its project options before the subcommand (`compose -f a.yaml -p x up -d`);
 * the command table matches `compose up` as one path, so they are moved after the subcommand,
 * where every compose command declares them. Plain data, no imports: main.ts loads it for `compose` only.
 */
const PROJECT_WITH_VALUE = new Set(['-f', '--file', '-p', '--project-name', '--project-directory', '--env-file', '--profile', '--ansi', '--progress', '--parallel']);
const LONG: Record<string, string> = { '-f': '--file', '-p': '--project-name' };
const PROJECT_BOOLEAN = new Set(['--compatibility', '--dry-run', '--all-resources']);

export function hoistProjectOptions(argv: string[]): string[] {
  let i = 0;
  // Global options (`--root DIR`) may come first.
  while (i < argv.length && argv[i]!.startsWith('--') && argv[i] !== '--help') i += argv[i]!.includes('=') ? 1 : 2;
  if (argv[i] !== 'compose') return argv;
  const moved: string[] = [];
  let j = i + 1;
  while (j < argv.length) {
    const a = argv[j]!;
    const name = a.startsWith('--') && a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (PROJECT_WITH_VALUE.has(name)) {
      const n = name === a ? 2 : 1;
      // Long names: after the verb, `-f` is `logs -f` (follow) or `rm -f` (force).
      moved.push(LONG[name] ?? name, ...(n === 2 ? argv.slice(j + 1, j + 2) : [a.slice(name.length + 1)]));
      j += n;
    } else if (PROJECT_BOOLEAN.has(a)) {
      j++;
    } else if (/^-[fp]./.test(a)) {
      moved.push(LONG[a.slice(0, 2)]!, a.slice(2));
      j++;
    } else break;
  }
  if (!moved.length || j >= argv.length) return argv;
  return [...argv.slice(0, i + 1), argv[j]!, ...moved, ...argv.slice(j + 1)];
}
