import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { commandReference } from '../../src/commands/reference.js';

test('docs/commands.md is the reference generated from the current commands (npm run docs)', async () => {
  const file = path.resolve(import.meta.dirname, '..', '..', 'docs', 'commands.md');
  const doc = fs.readFileSync(file, 'utf8');
  assert.equal(doc, await commandReference(), 'docs/commands.md is stale: run `npm run docs`');
  assert.match(doc, /## tsctr run\n/);
  assert.match(doc, /tsctr run -d -p 8080:80 nginx/);
});
