// Bundles the node program (src/cli/run.ts and what it imports) into dist/meshtv.js with
// esbuild; npm packages stay external and load from node_modules. Also bundles the WebTV page
// script (src/browser/app.ts, npm packages included) into dist/web/app.js for browsers.
// `node scripts/build.mjs web` builds the page script only.

import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2];

if (only !== 'web') {
  await build({
    entryPoints: [path.join(root, 'src/cli/run.ts')],
    outfile: path.join(root, 'dist/meshtv.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  });
}

await build({
  entryPoints: [path.join(root, 'src/browser/app.ts')],
  outfile: path.join(root, 'dist/web/app.js'),
  bundle: true,
  platform: 'browser',
  target: 'es2022',
  format: 'esm',
  minify: true,
  sourcemap: 'linked',
  logLevel: 'warning',
});
