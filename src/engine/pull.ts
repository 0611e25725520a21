/**
 * Pulling for a caller that is not inside the user namespace (the API server): the pull runs in a
 * child `tsctr pull` that enters it, as `run`'s pull does (container/ensure-image.ts), and its
 * progress comes back line by line.
 */
export async function pullInNamespace(ref: string, platform: string | undefined, onLine: (line: string, stream: 'stdout' | 'stderr') => void, signal?: AbortSignal): Promise<void> {
  const { spawn } = await import('node:child_process');
  const { selfCommand } = await import('../rootless/userns.js');
  const { TsctrError } = await import('../errors.js');
  const [cmd, ...args] = selfCommand();
  const child = spawn(cmd!, [...args, 'pull', ...(platform ? ['--platform', platform] : []), '--', ref], { stdio: ['ignore', 'pipe', 'pipe'] });
  const onAbort = () => child.kill('SIGTERM');
  signal?.addEventListener('abort', onAbort);
  let lastErr = '';
  const lines = (stream: 'stdout' | 'stderr') => {
    let buf = '';
    return (d: Buffer) => {
      buf += d.toString('utf8');
      let i: number;
      while ((i = buf.search(/[\r\n]/)) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (!line) continue;
        if (stream === 'stderr') lastErr = line;
        onLine(line, stream);
      }
    };
  };
  child.stdout!.on('data', lines('stdout'));
  child.stderr!.on('data', lines('stderr'));
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c) => resolve(c ?? 125));
  });
  signal?.removeEventListener('abort', onAbort);
  if (code !== 0) {
    const { NotFoundError } = await import('../errors.js');
    const msg = lastErr.replace(/^Error: /, '') || `pull failed (exit ${code})`;
    throw /not found|no registry has|manifest unknown|No such/i.test(msg) ? new NotFoundError(msg) : new TsctrError(msg);
  }
}
