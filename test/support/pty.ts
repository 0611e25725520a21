/**
 * Commands in a pseudo-terminal, for what only a terminal shows (raw mode, detach keys, the window
 * size, SIGWINCH): `inPty` drives one step by step through python3's pty; `inScript` is script(1)
 * for a command that only needs a terminal and a piped input.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

/**
 * send bytes; wait for output matching a regexp (20 s at most); sleep, reading what comes (until
 * attach has connected: what is typed before it set the terminal raw is echoed by the terminal);
 * resize the terminal to rows, cols (its foreground process gets SIGWINCH).
 */
export type Step = ['send', string] | ['expect', string] | ['sleep', number] | ['size', number, number];

const PTY_DRIVER = `
import fcntl, json, os, pty, re, select, struct, sys, termios, time
rows, cols = int(sys.argv[2]), int(sys.argv[3])
steps = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    if rows:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
    os.execvp(sys.argv[4], sys.argv[4:])
out = b''
def more(t):
    global out
    r, _, _ = select.select([fd], [], [], t)
    if not r:
        return True
    try:
        d = os.read(fd, 4096)
    except OSError:
        d = b''
    out += d
    return bool(d)
for step in steps:
    kind, arg = step[0], step[1]
    if kind == 'sleep':
        end = time.time() + arg
        while time.time() < end and more(end - time.time()):
            pass
        continue
    if kind == 'send':
        os.write(fd, arg.encode('latin1'))
        continue
    if kind == 'size':
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', arg, step[2], 0, 0))
        continue
    end = time.time() + 20
    while not re.search(arg.encode('latin1'), out):
        if time.time() > end or not more(end - time.time()):
            os.kill(pid, 9)
            sys.stdout.write(json.dumps({'code': -1, 'out': 'did not see %r in %r' % (arg, out.decode('latin1'))}))
            sys.exit(0)
end = time.time() + 20
while time.time() < end and more(1):
    pass
_, st = os.waitpid(pid, 0)
sys.stdout.write(json.dumps({'code': os.waitstatus_to_exitcode(st), 'out': out.decode('latin1')}))
`;

/**
 * Runs argv in a pseudo-terminal (of `size` rows and columns; none: the pty's default, 0x0), does the
 * steps in turn, then reads to the end: the exit code (-1 when an expect timed out) and all output.
 */
export function inPty(argv: string[], steps: Step[], o: { env: NodeJS.ProcessEnv; size?: [number, number]; timeout?: number }): { code: number; out: string } {
  const [rows, cols] = o.size ?? [0, 0];
  const r = spawnSync('python3', ['-c', PTY_DRIVER, JSON.stringify(steps), String(rows), String(cols), ...argv], { env: o.env, encoding: 'utf8', timeout: o.timeout ?? 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { code: number; out: string };
}

/** `script -qec COMMAND /dev/null`: a shell command line with a terminal, `input` typed into it. */
export function inScript(command: string, o: { env?: NodeJS.ProcessEnv; input?: string; timeout?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync('script', ['-qec', command, '/dev/null'], { env: o.env, input: o.input, encoding: 'utf8', timeout: o.timeout });
}
