// The layers of src/, lowest first; a module may import from its own layer and the layers it
// lists, never upward. `npm test` runs this (scripts/test.mjs), so an upward import fails the
// build. docs/architecture.md draws the same picture.
const layers = {
  common: [],
  crypto: ['common'],
  protocol: ['common', 'crypto'],
  api: ['common', 'crypto', 'protocol'],
  transport: ['common', 'crypto', 'protocol'],
  runtime: ['common', 'crypto', 'protocol', 'transport'],
  media: ['common', 'protocol'],
  tracker: ['common', 'crypto', 'protocol', 'api', 'transport', 'runtime'],
  sim: ['common', 'crypto', 'protocol', 'transport'],
  native: ['common', 'crypto', 'protocol', 'api', 'transport', 'runtime', 'media'],
  browser: ['common', 'crypto', 'protocol', 'api', 'transport', 'runtime'],
  bench: ['common', 'crypto', 'protocol', 'api', 'transport', 'runtime', 'media', 'sim', 'native'],
  cli: ['common', 'crypto', 'protocol', 'api', 'transport', 'runtime', 'media', 'tracker', 'sim', 'native', 'bench'],
};

module.exports = {
  forbidden: [
    ...Object.entries(layers).map(([layer, below]) => ({
      name: `${layer}-imports-downward-only`,
      comment: `src/${layer}/ may import only from ${below.length > 0 ? below.map((l) => `src/${l}/`).join(', ') : 'itself'} (and npm packages).`,
      severity: 'error',
      from: { path: `^src/${layer}/` },
      to: { path: '^src/', pathNot: [`^src/(${[layer, ...below, 'types'].join('|')})/`] },
    })),
    {
      name: 'no-unknown-layer',
      comment: 'Every folder of src/ is a layer listed in .dependency-cruiser.cjs.',
      severity: 'error',
      from: { path: '^src/', pathNot: [`^src/(${[...Object.keys(layers), 'types'].join('|')})/`] },
      to: {},
    },
    {
      name: 'no-circular',
      comment: 'Modules that import each other cannot be understood or tested one at a time.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'src-does-not-import-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^src/types/' },
  },
};
