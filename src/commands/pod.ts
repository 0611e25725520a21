import { Option } from 'clipanion';
import { TsctrCommand, forEachItem } from '../command-base.js';

export class PodCreateCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({
    category: 'Pods',
    description: 'Create a pod: a network namespace (held by an infra container) that containers join with --pod',
    details: `
      The pod's containers share localhost and the pod's published ports. Its infra container,
      POD-infra, runs tsctr-shim's pause in an empty local image (localhost/tsctr-pause), made on first use.
    `,
    examples: [['A pod serving on 8080, and a web server in it', '$0 pod create --name web -p 8080:80 && $0 run -d --pod web nginx']],
  });

  name = Option.String('--name', { description: 'Assign a name to the pod' });
  publish = Option.Array('-p,--publish', [], { description: "Publish a port of the pod's network to the host" });
  hostname = Option.String('--hostname', { description: "The pod's host name (default: its name)" });
  label = Option.Array('-l,--label', [], { description: 'Set metadata on the pod' });

  async run(): Promise<void> {
    const { createPod } = await import('../engine/pods.js');
    const { parseLabels, parsePorts } = await import('../container/options.js');
    const infra = await createPod(this.name, { portBindings: parsePorts(this.publish), hostname: this.hostname, labels: parseLabels(this.label) });
    this.out(infra.id);
  }
}

export class PodPsCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Pods', description: 'List pods', examples: [['All pods', '$0 pod ps']] });

  quiet = Option.Boolean('-q,--quiet', false, { description: 'Only show pod IDs' });
  noTrunc = Option.Boolean('--no-trunc', false, { description: "Don't truncate pod IDs" });
  format = Option.String('--format', { description: 'Format output using a Go template, or "json"' });

  async run(): Promise<void> {
    const { listPods } = await import('../engine/pods.js');
    const rows = await listPods(this.noTrunc);
    if (this.quiet) return void this.write(rows.map((r) => `${r.ID}\n`).join(''));
    const { formatRows } = await import('../util/template.js');
    const def = 'table {{.ID}}\t{{.Name}}\t{{.Status}}\t{{.Created}}\t{{.InfraID}}\t{{.NumberOfContainers}}';
    const headers = { ID: 'POD ID', Name: 'NAME', Status: 'STATUS', Created: 'CREATED', InfraID: 'INFRA ID', NumberOfContainers: '# OF CONTAINERS' };
    this.write(formatRows(this.format === 'json' ? '{{json .}}' : (this.format ?? def), rows, headers, def));
  }
}

export class PodRmCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Pods', description: 'Remove pods and their containers', examples: [['Stop and remove web', '$0 pod rm -f web']] });

  force = Option.Boolean('-f,--force', false, { description: 'Remove running containers too' });
  pods = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { removePod } = await import('../engine/pods.js');
    return forEachItem(this.pods, this.context.stderr, async (name) => {
      const infra = await removePod(name, this.force);
      this.out(infra.id);
    }, undefined, false);
  }
}

export class PodStartCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Pods', description: 'Start pods: the infra container, then the others', examples: [['Start web', '$0 pod start web']] });

  pods = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { startPod } = await import('../engine/pods.js');
    return forEachItem(this.pods, this.context.stderr, async (name) => this.out((await startPod(name)).id), undefined, false);
  }
}

export class PodStopCommand extends TsctrCommand {
  static override usage = TsctrCommand.Usage({ category: 'Pods', description: 'Stop pods: their containers, then the infra container', examples: [['Stop web', '$0 pod stop web']] });

  time = Option.String('-t,--time', { description: 'Seconds to wait for each container to stop before killing it' });
  pods = Option.Rest({ required: 1 });

  async run(): Promise<number> {
    const { stopPod } = await import('../engine/pods.js');
    const t = this.time === undefined ? undefined : Number(this.time);
    return forEachItem(this.pods, this.context.stderr, async (name) => this.out((await stopPod(name, t)).id), undefined, false);
  }
}
