// npm run docs: regenerate docs/commands.md from the command definitions.
import fs from 'node:fs';
import path from 'node:path';
import { commandReference } from '../src/commands/reference.js';

const file = path.resolve(import.meta.dirname, '..', 'docs', 'commands.md');
fs.writeFileSync(file, await commandReference());
console.log(`wrote ${path.relative(process.cwd(), file)}`);
