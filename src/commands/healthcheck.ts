import { Option } from 'clipanion';
import { TsctrCommand } from '../command-base.js';

export class HealthcheckRunCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Containers',
    description: "Run a container's health check once, now (podman): exit 0 healthy, 1 unhealthy",
    details: "The probe runs as the monitor runs it (the container's user, capabilities, seccomp filter), with the check's timeout. The result is not added to the health log the monitor keeps.",
    examples: [['Check a container', '$0 healthcheck run web']],
  });

  container = Option.String({ name: 'CONTAINER' });

  async run(): Promise<number> {
    const { runHealthcheck } = await import('../engine/extra.js');
    const healthy = await runHealthcheck(this.container);
    if (!healthy) this.out('unhealthy');
    return healthy ? 0 : 1;
  }
}
