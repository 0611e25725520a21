import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyChanges } from '../../src/image/dockerfile/config-change.js';

test('CMD and ENTRYPOINT: exec form as given, shell form through /bin/sh -c', () => {
  assert.deepEqual(applyChanges({}, ['CMD ["sh", "-c", "echo hi"]']).Cmd, ['sh', '-c', 'echo hi']);
  assert.deepEqual(applyChanges({}, ['cmd echo hi there']).Cmd, ['/bin/sh', '-c', 'echo hi there']);
  assert.deepEqual(applyChanges({}, ['ENTRYPOINT ["/bin/app"]']).Entrypoint, ['/bin/app']);
  // A malformed array is a shell command, as in a Dockerfile.
  assert.deepEqual(applyChanges({}, ['CMD [sh']).Cmd, ['/bin/sh', '-c', '[sh']);
});

test('ENV and LABEL: k=v pairs with quotes, the old one-pair form, later values replace earlier ones', () => {
  const c = applyChanges({ Env: ['PATH=/bin', 'A=old'] }, ['ENV A=1 B="two words" C=x\\ y', 'ENV D the rest is the value', 'LABEL a=b "c d"=e']);
  assert.deepEqual(c.Env, ['PATH=/bin', 'A=1', 'B=two words', 'C=x y', 'D=the rest is the value']);
  assert.deepEqual(c.Labels, { a: 'b', 'c d': 'e' });
  assert.throws(() => applyChanges({}, ['ENV A="unterminated']), /unterminated quote/);
  assert.throws(() => applyChanges({}, ['LABEL =x']), /followed by =value/);
});

test('EXPOSE, VOLUME, USER, WORKDIR, STOPSIGNAL', () => {
  const c = applyChanges({}, ['EXPOSE 80 53/udp', 'VOLUME ["/data", "/logs"]', 'VOLUME /cache', 'USER 1000:1000', 'WORKDIR /app', 'WORKDIR sub', 'STOPSIGNAL SIGQUIT']);
  assert.deepEqual(c.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.deepEqual(Object.keys(c.Volumes!), ['/data', '/logs', '/cache']);
  assert.equal(c.User, '1000:1000');
  assert.equal(c.WorkingDir, '/app/sub');
  assert.equal(c.StopSignal, 'SIGQUIT');
  assert.throws(() => applyChanges({}, ['EXPOSE 70000']), /invalid port/);
});

test('instructions a change cannot carry are refused with the list of those it can', () => {
  assert.throws(() => applyChanges({}, ['RUN rm -rf /']), /RUN is not a valid change command \(use CMD/);
  assert.throws(() => applyChanges({}, ['ONBUILD RUN x']), /ONBUILD is not a valid change command/);
  assert.throws(() => applyChanges({}, ['CMD']), /CMD needs an argument/);
  assert.throws(() => applyChanges({}, ['']), /invalid change/);
});

test('the base config is not modified', () => {
  const base = { Env: ['A=1'] };
  applyChanges(base, ['ENV A=2']);
  assert.deepEqual(base, { Env: ['A=1'] });
});
