// Each command's --help explains its own flags, one line each: every flag the command accepts
// (as the user-contract snapshot lists them) has its line, and no line is a bare flag name.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { ROOT } from '../helpers/processes.js';

const flags = (
  JSON.parse(fs.readFileSync(path.join(ROOT, 'test/fixtures/user-contract.json'), 'utf8')) as {
    flags: Record<string, Record<string, string>>;
  }
).flags;

async function helpOf(command: string): Promise<{ code: number; text: string }> {
  const write = process.stdout.write;
  let text = '';
  process.stdout.write = ((chunk: string) => {
    text += chunk;
    return true;
  }) as typeof process.stdout.write;
  try {
    return { code: await main([command, '--help']), text };
  } finally {
    process.stdout.write = write;
  }
}

for (const command of ['tracker', 'broadcast', 'watch', 'channels', 'demo', 'bench']) {
  test(`meshtv ${command} --help: one explained line per flag it takes`, async () => {
    const { code, text } = await helpOf(command);
    assert.equal(code, 0);
    assert.match(text, new RegExp(`^Usage: meshtv ${command}`, 'm'));
    for (const flag of Object.keys(flags[command] ?? {})) {
      const line = text.split('\n').find((l) => l.startsWith(`  --${flag} `) || l === `  --${flag}`);
      assert.ok(line !== undefined, `--${flag} is missing from meshtv ${command} --help`);
      assert.ok(line.trim().split(/\s{2,}|\s(?=[a-z])/).length > 1, `--${flag} has no explanation: "${line}"`);
    }
    // Its own flags only: a flag of another command is not listed.
    if (command !== 'broadcast') assert.doesNotMatch(text, /--renditions/);
  });
}
