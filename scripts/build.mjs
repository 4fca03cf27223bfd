// Bundles the node program (src/node/run.ts and what it imports) into dist/meshtv.js with
// esbuild; npm packages stay external and load from node_modules.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

await build({
  entryPoints: [path.join(root, 'src/node/run.ts')],
  outfile: path.join(root, 'dist/meshtv.js'),
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
