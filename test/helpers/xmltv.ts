// Debian's XMLTV validator (xmltv-util's tv_validate_file), run on a document with the DTD the
// package installs, so that no test reaches the network for it.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { tempDir } from './processes.js';

const DTD = '/usr/share/xmltv/xmltv.dtd';

/** Runs tv_validate_file on `xml`; its output says why when it refuses. */
export function tvValidate(xml: string): { ok: boolean; output: string } {
  assert.ok(fs.existsSync(DTD), 'tv_validate_file is missing: apt-get install xmltv-util (scripts/bootstrap.mjs --test installs it)');
  const dir = tempDir('epg');
  const file = `${dir}/epg.xml`;
  fs.writeFileSync(file, xml);
  const r = spawnSync('tv_validate_file', ['--dtd-file', DTD, file], { encoding: 'utf8' });
  fs.rmSync(dir, { recursive: true, force: true });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}
