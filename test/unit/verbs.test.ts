import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commands } from '../../src/commands/index.js';
import { verbModules } from '../../src/commands/verbs.js';

test('each verb module exports every command whose first word is that verb (main.ts loads only it)', async () => {
  for (const [verb, load] of Object.entries(verbModules)) {
    const exported = new Set(Object.values(await load()));
    const owners = commands.filter((c) => (c.paths ?? []).some((p) => p[0] === verb));
    assert.ok(owners.length > 0, `no command has the verb ${verb}`);
    for (const c of owners) assert.ok(exported.has(c), `${c.name} (verb ${verb}) is not exported by its verb module`);
  }
});
