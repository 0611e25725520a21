import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';
import { TsctrError } from '../errors.js';

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let s = '';
  for await (const chunk of stream) s += chunk.toString();
  return s;
}

async function prompt(question: string, hidden: boolean): Promise<string> {
  const readline = await import('node:readline');
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  if (hidden) {
    // Echo nothing while the password is typed.
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
      if (s.includes(question)) process.stderr.write(s);
    };
  }
  const answer = await new Promise<string>((resolve) => rl.question(question, resolve));
  rl.close();
  if (hidden) process.stderr.write('\n');
  return answer;
}

export class LoginCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Registries',
    description: 'Log in to a registry',
    details: 'Credentials are checked against the registry, then saved (mode 0600) in ~/.config/containers/auth.json, the file podman uses; ~/.docker/config.json is read too.',
    examples: [
      ['Interactive', '$0 login registry.example.com'],
      ['From a script', 'echo "$PASS" | $0 login -u me --password-stdin registry.example.com'],
    ],
  });

  username = Option.String('-u,--username', { description: 'Username' });
  password = Option.String('-p,--password', { description: 'Password' });
  passwordStdin = Option.Boolean('--password-stdin', false, { description: 'Take the password from stdin' });
  authfile = Option.String('--authfile', { description: 'Path of the authentication file' });
  server = Option.String({ required: false, name: 'SERVER' });

  async run(): Promise<void> {
    const server = this.server ?? 'docker.io';
    let { username, password } = this;
    if (this.passwordStdin) {
      if (password) throw new TsctrError('--password and --password-stdin are mutually exclusive');
      if (!username) throw new TsctrError('Must provide --username with --password-stdin');
      password = (await readAll(process.stdin)).replace(/\r?\n$/, '');
    }
    if (!username || !password) {
      if (!process.stdin.isTTY) throw new TsctrError('Cannot perform an interactive login from a non TTY device');
      username ||= await prompt('Username: ', false);
      password ||= await prompt('Password: ', true);
    }
    if (!username || !password) throw new TsctrError('username and password are required');
    const { login } = await import('../engine/registry.js');
    await login(server, { username, password }, this.authfile);
    this.out('Login Succeeded!');
  }
}
