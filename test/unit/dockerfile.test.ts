import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile, splitWords, keyValues } from '../../src/image/dockerfile/parse.js';
import { expandVars } from '../../src/image/dockerfile/expand.js';
import { IgnoreMatcher } from '../../src/builder/dockerignore.js';
import { applyChanges, applyConfigInstruction } from '../../src/image/dockerfile/config-change.js';
import type { ImageConfig } from '../../src/image/types.js';

test('continuations, comments inside them, case-insensitive instructions, flags and exec form', () => {
  const df = parseDockerfile(['# syntax=docker/dockerfile:1', '', 'from busybox AS base', 'RUN echo a \\', '# a comment inside', '  && echo b', 'COPY --chown=1:2 --from=base ["a b", "/c/"]', 'cmd ["sh"]'].join('\n'));
  assert.deepEqual(df.instructions.map((i) => i.cmd), ['FROM', 'RUN', 'COPY', 'CMD']);
  assert.equal(df.instructions[1]!.rest, 'echo a   && echo b');
  assert.equal(df.instructions[1]!.line, 4);
  assert.deepEqual(df.instructions[2]!.flags, { chown: '1:2', from: 'base' });
  assert.deepEqual(df.instructions[2]!.json, ['a b', '/c/']);
  assert.deepEqual(df.instructions[3]!.json, ['sh']);
});

test('the escape directive switches the continuation character', () => {
  const df = parseDockerfile('# escape=`\nFROM x\nRUN dir c:\\ `\n  /w\n');
  assert.equal(df.instructions[1]!.rest, 'dir c:\\   /w');
});

test('unknown instructions name their line', () => {
  assert.throws(() => parseDockerfile('FROM x\n\nBOGUS y\n'), /Dockerfile:3: unknown instruction: BOGUS/);
});

test('words and key=value pairs follow docker quoting', () => {
  assert.deepEqual(splitWords(`a "b c" 'd e' f\\ g`), ['a', 'b c', 'd e', 'f g']);
  assert.deepEqual(keyValues('A=1 B="two words" C=a\\ b'), [['A', '1'], ['B', 'two words'], ['C', 'a b']]);
  assert.deepEqual(keyValues('OLD value with spaces'), [['OLD', 'value with spaces']]);
});

test('variables: $X, ${X}, defaults, alternatives; none in single quotes; escaped $ stays', () => {
  const v = (n: string) => ({ A: 'one', E: '' } as Record<string, string>)[n];
  assert.equal(expandVars('$A ${A} ${B:-two} ${A:+alt} ${E:-empty} ${E-unset}', v), 'one one two alt empty ');
  assert.equal(expandVars(`'$A' "$A" \\$A`, v), `'$A' "one" \\$A`);
});

test('.dockerignore: globs, **, exceptions, last match wins', () => {
  const m = new IgnoreMatcher('# c\n*.log\n**/tmp\n!keep.log\nbuild/\n');
  assert.equal(m.ignored('a.log'), true);
  assert.equal(m.ignored('keep.log'), false);
  assert.equal(m.ignored('x/y/tmp'), true);
  assert.equal(m.ignored('x/y/tmp/file'), true);
  assert.equal(m.ignored('build/out.o'), true);
  assert.equal(m.ignored('src/a.c'), false);
  assert.equal(m.ignored('sub/a.log'), false, '*.log matches at the root only');
});

test('configuration instructions and --change', () => {
  const img: ImageConfig = { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] }, config: { Cmd: ['sh'], Env: ['PATH=/bin'] } };
  img.config = applyChanges(img.config!, ['ENV A=1 B=2', 'WORKDIR /srv', 'WORKDIR sub', 'EXPOSE 80 53/udp', 'USER www', 'LABEL a=b', 'ENTRYPOINT ["/e"]']);
  assert.deepEqual(img.config!.Env, ['PATH=/bin', 'A=1', 'B=2']);
  assert.equal(img.config!.WorkingDir, '/srv/sub');
  assert.deepEqual(img.config!.ExposedPorts, { '80/tcp': {}, '53/udp': {} });
  assert.equal(img.config!.User, 'www');
  assert.deepEqual(img.config!.Entrypoint, ['/e']);
  assert.equal(img.config!.Cmd, null, 'a new ENTRYPOINT resets the inherited CMD');
  const stage = { cmdSet: false };
  const df = parseDockerfile('FROM x\nCMD run\nENTRYPOINT ["/e2"]\n');
  applyConfigInstruction(img, df.instructions[1]!, () => undefined, '\\', stage);
  applyConfigInstruction(img, df.instructions[2]!, () => undefined, '\\', stage);
  assert.deepEqual(img.config!.Cmd, ['/bin/sh', '-c', 'run'], 'but not a CMD of the same stage');
  assert.throws(() => applyChanges({}, ['RUN true']), /RUN is not a valid change command/);
});

test('flags an instruction does not take are errors, BuildKit-only ones say so', () => {
  assert.throws(() => parseDockerfile('FROM x\nRUN --mount=type=cache,target=/c make\n'), /Dockerfile:2: Unknown flag: mount \(RUN --mount is a BuildKit extension/);
  assert.throws(() => parseDockerfile('FROM x\nCOPY --link a b\n'), /Unknown flag: link/);
  assert.deepEqual(parseDockerfile('FROM --platform=linux/amd64 x\nCOPY --chmod=755 a b\n').instructions[1]!.flags, { chmod: '755' });
});
