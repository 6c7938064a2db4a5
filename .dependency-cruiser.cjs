// The architecture rules (docs/architecture.md), checked by `npm run lint` on every commit.
// LAYERS is the order, ground up: a folder of src/ imports only folders listed before it.
const LAYERS = [
  'common',
  'observability',
  'events',
  'config',
  'messaging',
  'persistence',
  'outbox',
  'transactions',
  'operators',
  'verification',
  'ingest',
  'retention',
  'topups',
  'admin',
  'console',
  'sandbox',
  'providers',
  'dev',
  'health',
  'http',
  'app', // the files directly in src/: the Nest application, main.ts, migrate.ts
  'bin',
];
const folder = (name) => (name === 'app' ? '^src/[^/]+$' : `^src/${name}/`);

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'An import loop: no folder can be understood (or tested) without the others.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...LAYERS.slice(0, -1).map((name, index) => ({
      name: `upward-from-${name}`,
      comment: `${name} imports a layer above it (the order is LAYERS in .dependency-cruiser.cjs).`,
      severity: 'error',
      from: { path: folder(name) },
      to: { path: LAYERS.slice(index + 1).map(folder) },
    })),
    {
      name: 'unplaced-folder',
      comment: 'A folder of src/ that is not in LAYERS: give it its place in the order.',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.map(folder) },
      to: {},
    },
    {
      name: 'provider-to-provider',
      comment: 'A provider imports another provider: share through a lower layer instead.',
      severity: 'error',
      from: { path: '^src/providers/([^/]+)/' },
      to: { path: '^src/providers/[^/]+/', pathNot: '^src/providers/$1/' },
    },
    {
      name: 'provider-outside-registry',
      comment: 'Only src/providers/index.ts names the provider folders; everything else asks it.',
      severity: 'error',
      from: { path: '^src/', pathNot: ['^src/providers/[^/]+/', '^src/providers/index\\.ts$'] },
      to: { path: '^src/providers/[^/]+/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count: they tie the folders together as much as value imports do.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
