/**
 * Kubernetes YAML out and in: what `generate kube` writes is valid against the Kubernetes schemas
 * (kubernetes-models) and says what the containers are; `play kube` runs it again rootless — the
 * round trip answers on the same port, a pod's containers share localhost, `--down` removes it all.
 */
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Pod } from 'kubernetes-models/v1/Pod';
import { Service } from 'kubernetes-models/v1/Service';
import { Sandbox, freePort } from '../support/harness.js';
import { sleep } from '../support/wait.js';
import { getBodyOrEmpty } from '../support/http.js';

const sb = new Sandbox('kube');
after(() => sb.dispose());

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const docsOf = (yaml: string): Obj[] => parseAllDocuments(yaml).map((d) => d.toJS() as Obj);

describe('generate kube', () => {
  test('a Pod and a Service the Kubernetes schemas accept, saying what the container is', async () => {
    sb.ok(['pull', '-q', 'busybox']);
    const host = path.join(sb.dir, 'hostdir');
    fs.mkdirSync(host);
    const port = await freePort();
    sb.ok([
      'create', '--name', 'App_1', '-e', 'MODE=prod', '-w', '/srv', '-u', '1000:1000', '-p', `${port}:8080`,
      '-v', `${host}:/data:ro`, '-v', 'appvol:/state', '--tmpfs', '/scratch', '--memory', '64m', '--cpus', '0.5',
      '--label', 'tier=web', '--restart', 'on-failure', 'busybox', 'httpd', '-f', '-p', '8080',
    ]);
    const yaml = sb.ok(['generate', 'kube', '--service', 'App_1']);
    const [pod, service] = docsOf(yaml);
    new Pod(pod as never).validate();
    new Service(service as never).validate();
    assert.equal(pod!.metadata.name, 'app-1-pod');
    assert.equal(pod!.spec.restartPolicy, 'OnFailure');
    const c = pod!.spec.containers[0];
    assert.equal(c.name, 'app-1');
    assert.equal(c.image, 'docker.io/library/busybox:latest');
    assert.equal(c.command, undefined, 'the image entrypoint is kept');
    assert.deepEqual(c.args, ['httpd', '-f', '-p', '8080']);
    assert.deepEqual(c.env, [{ name: 'MODE', value: 'prod' }], "only what the image does not set");
    assert.equal(c.workingDir, '/srv');
    assert.deepEqual(c.securityContext, { runAsUser: 1000, runAsGroup: 1000 });
    assert.deepEqual(c.ports, [{ containerPort: 8080, hostPort: port, protocol: 'TCP' }]);
    assert.deepEqual(c.resources, { limits: { memory: String(64 * 1024 * 1024), cpu: '500m' } });
    assert.deepEqual(pod!.metadata.labels, { app: 'app-1-pod', tier: 'web' });
    const vols = Object.fromEntries((pod!.spec.volumes as Obj[]).map((v) => [v.name, v]));
    const mounts = Object.fromEntries((c.volumeMounts as Obj[]).map((m) => [m.mountPath, m]));
    assert.deepEqual(vols[mounts['/data'].name].hostPath, { path: host, type: 'Directory' });
    assert.equal(mounts['/data'].readOnly, true);
    assert.deepEqual(vols[mounts['/state'].name].persistentVolumeClaim, { claimName: 'appvol' });
    assert.deepEqual(vols[mounts['/scratch'].name].emptyDir, { medium: 'Memory' });
    assert.equal(service!.spec.type, 'NodePort');
    assert.deepEqual(service!.spec.selector, { app: 'app-1-pod' });
    assert.deepEqual(service!.spec.ports, [{ name: '8080-tcp', port: 8080, targetPort: 8080, protocol: 'TCP' }]);
    sb.ok(['rm', 'App_1']);
  });

  test('unknown containers and --service without ports are clear errors', () => {
    assert.match(sb.run(['generate', 'kube', 'nope']).stderr, /^Error: No such container: nope/);
    sb.ok(['create', '--name', 'noports', 'busybox', 'true']);
    const r = sb.run(['generate', 'kube', '--service', 'noports']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /--service needs published ports/);
    sb.ok(['rm', 'noports']);
  });
});

describe('play kube', () => {
  test('round trip: generate kube from a running nginx, remove it, play the YAML, the same port answers again; --down', async () => {
    sb.ok(['pull', '-q', 'nginx']);
    const port = await freePort();
    sb.ok(['run', '-d', '--name', 'web', '-p', `${port}:80`, 'nginx']);
    assert.match(await getBodyOrEmpty(port, { ms: 15_000 }), /Welcome to nginx/);
    const file = path.join(sb.dir, 'web.yaml');
    sb.ok(['generate', 'kube', '-f', file, 'web']);
    sb.ok(['rm', '-f', 'web']);
    assert.equal(await getBodyOrEmpty(port, { ms: 0 }), '', 'nothing answers once it is removed');

    const out = sb.ok(['play', 'kube', file]);
    assert.match(out, /^Pod:\nweb-pod\nContainers:\n[0-9a-f]{64}\n$/);
    assert.match(await getBodyOrEmpty(port, { ms: 15_000 }), /Welcome to nginx/);
    const names = sb.ok(['ps', '--format', '{{.Names}} {{.Ports}}']).trim().split('\n').sort();
    assert.equal(names.length, 2);
    assert.match(names[0]!, new RegExp(`^web-pod-infra 0\\.0\\.0\\.0:${port}->80/tcp`));
    assert.equal(names[1], 'web-pod-web 80/tcp');
    const again = sb.run(['play', 'kube', file]);
    assert.equal(again.code, 125);
    assert.match(again.stderr, /pod web-pod already exists/);

    assert.equal(sb.ok(['play', 'kube', '--down', file]), 'Pods stopped and removed:\nweb-pod\n');
    assert.equal(sb.ok(['ps', '-aq']), '');
    assert.equal(await getBodyOrEmpty(port, { ms: 0 }), '');
  });

  test("a pod's containers reach each other on localhost; unsupported fields are reported", async () => {
    const yaml = `apiVersion: v1
kind: Pod
metadata:
  name: duo
spec:
  containers:
    - name: server
      image: busybox
      command: ["httpd", "-f", "-p", "8081", "-h", "/srv"]
      volumeMounts:
        - name: site
          mountPath: /srv
      livenessProbe:
        httpGet: { path: /, port: 8081 }
    - name: client
      image: busybox
      command: ["sh", "-c"]
      args: ["until wget -q -O - http://localhost:8081/; do sleep 0.1; done; sleep 1000"]
  volumes:
    - name: site
      hostPath:
        path: ${path.join(sb.dir, 'site')}
        type: DirectoryOrCreate
`;
    const file = path.join(sb.dir, 'duo.yaml');
    fs.writeFileSync(file, yaml);
    const r = sb.run(['play', 'kube', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /pod duo container server: livenessProbe is not supported; ignored/);
    fs.writeFileSync(path.join(sb.dir, 'site', 'index.html'), 'hello from the pod\n');
    let logs = '';
    for (let i = 0; i < 100 && !logs.includes('hello from the pod'); i++) {
      await sleep(100);
      logs = sb.ok(['logs', 'duo-client']);
    }
    assert.match(logs, /hello from the pod/);
    sb.ok(['play', 'kube', '--down', file]);
    assert.equal(sb.ok(['ps', '-aq']), '');
  });

  test('pods: pod create publishes, run --pod joins its network, pod ps/stop/start/rm', async () => {
    const port = await freePort();
    const podId = sb.ok(['pod', 'create', '--name', 'pp', '-p', `${port}:80`]).trim();
    assert.match(podId, /^[0-9a-f]{64}$/);
    sb.ok(['run', '-d', '--pod', 'pp', '--name', 'pp-web', 'nginx']);
    assert.match(await getBodyOrEmpty(port, { ms: 15_000 }), /Welcome to nginx/);
    // Another member reaches it on localhost.
    assert.match(sb.ok(['run', '--rm', '--pod', 'pp', 'busybox', 'wget', '-qO-', 'http://127.0.0.1/']), /Welcome to nginx/);
    assert.match(sb.ok(['pod', 'ps']), new RegExp(`^${podId.slice(0, 12)}\\s+pp\\s+Running\\s+.*\\s2$`, 'm'));
    const ports = sb.run(['run', '-d', '--pod', 'pp', '-p', '9999:80', 'busybox', 'true']);
    assert.equal(ports.code, 125);
    assert.match(ports.stderr, /published ports belong to the pod/);
    assert.match(sb.run(['run', '--pod', 'nosuch', 'busybox', 'true']).stderr, /no such pod: nosuch/);
    // generate kube of the pod: one Pod of its containers, with the pod's ports.
    const [podDoc] = docsOf(sb.ok(['generate', 'kube', 'pp']));
    new Pod(podDoc as never).validate();
    assert.equal(podDoc!.metadata.name, 'pp');
    assert.deepEqual(podDoc!.metadata.labels, { app: 'pp' });
    assert.deepEqual((podDoc!.spec.containers as Obj[]).map((c) => [c.name, c.ports]), [['pp-web', [{ containerPort: 80, hostPort: port, protocol: 'TCP' }]]]);
    const busy = sb.run(['pod', 'rm', 'pp']);
    assert.equal(busy.code, 125);
    assert.match(busy.stderr, /pod pp has running containers \(pp-web\)/);
    sb.ok(['pod', 'stop', '-t', '2', 'pp']);
    assert.match(sb.ok(['pod', 'ps']), /\spp\s+Exited\s/);
    assert.equal(await getBodyOrEmpty(port, { ms: 0 }), '');
    sb.ok(['pod', 'start', 'pp']);
    assert.match(await getBodyOrEmpty(port, { ms: 15_000 }), /Welcome to nginx/);
    sb.ok(['pod', 'rm', '-f', 'pp']);
    assert.equal(sb.ok(['ps', '-aq']), '');
    assert.equal(sb.ok(['pod', 'ps', '-q']), '');
  });

  test('bad input is refused before anything starts', () => {
    const cases: [string, RegExp][] = [
      ['kind: Pod\nmetadata: {name: x}\nspec: {containers: [{name: a, image: busybox}]}\n  bad: [', /invalid YAML/],
      ['kind: ConfigMap\nmetadata: {name: x}\n', /describes no Pod or Deployment/],
      ['kind: Pod\nmetadata: {name: Bad_Name}\nspec: {containers: [{name: a, image: busybox}]}\n', /invalid pod name "Bad_Name"/],
      ['kind: Pod\nmetadata: {name: v}\nspec:\n  containers: [{name: a, image: busybox, volumeMounts: [{name: missing, mountPath: /m}]}]\n', /volumeMount missing names no volume/],
    ];
    for (const [text, want] of cases) {
      const file = path.join(sb.dir, 'bad.yaml');
      fs.writeFileSync(file, text);
      const r = sb.run(['play', 'kube', file]);
      assert.equal(r.code, 125, r.stderr);
      assert.match(r.stderr, want);
      assert.equal(sb.ok(['ps', '-aq']), '');
    }
    assert.match(sb.run(['play', 'kube', path.join(sb.dir, 'none.yaml')]).stderr, /cannot read .*none.yaml: no such file or directory/);
  });
});
