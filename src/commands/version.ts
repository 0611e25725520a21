import { Option } from 'clipanion';
import os from 'node:os';
import { TsctrCommand } from '../command-base.js';
import { API_VERSION, VERSION } from '../version.js';

export class VersionCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'System',
    description: 'Show the tsctr version information',
    examples: [['As JSON', '$0 version --format json']],
  });

  static override remote = true;

  format = Option.String('-f,--format', { description: 'Format output using a Go template, or "json"' });

  async run(): Promise<void> {
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    const server = await (await import('../engine/remote.js')).remoteVersion();
    const info = {
      Client: { Version: VERSION, APIVersion: API_VERSION, NodeVersion: process.version, Os: 'linux', Arch: arch, Kernel: os.release() },
      ...(server ? { Server: server } : {}),
    };
    if (this.format) {
      const { compileTemplate, parseFormat } = await import('../util/template.js');
      this.out(this.format === 'json' ? JSON.stringify(info) : compileTemplate(parseFormat(this.format).template)(info));
      return;
    }
    this.out(
      [`Client:`, ` Version:      ${VERSION}`, ` API version:  ${API_VERSION}`, ` Node version: ${process.version}`, ` OS/Arch:      linux/${arch}`, ` Kernel:       ${os.release()}`].join('\n'),
    );
    // With --url: the engine answering, as docker's `version` shows its server.
    if (server) {
      const s = (k: string) => String(server[k] ?? '');
      this.out(['', `Server:`, ` Version:      ${s('Version')}`, ` API version:  ${s('ApiVersion')}`, ` OS/Arch:      ${s('Os')}/${s('Arch')}`, ` Kernel:       ${s('KernelVersion')}`].join('\n'));
    }
  }
}
