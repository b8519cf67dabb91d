/**
 * The layer order of src/ (CONTRIBUTING.md, "Layers"), enforced by `npm run lint`.
 * From the top: a folder may import its own folder and any folder of a LOWER layer, never one of
 * its own layer or above; no cycle anywhere; src/protocol/ imports only src/protocol/.
 */
const LAYERS = [
  ['commands'],
  ['base-command.ts'],
  ['bench', 'faults'],
  ['capacity'],
  ['demo', 'doctor'],
  ['sim', 'serve'],
  ['load'],
  ['report'],
  ['sla'],
  ['media'],
  ['metrics'],
  ['config', 'ari'],
  ['engine'],
  ['runtime'],
  ['protocol'],
  ['rtp', 'log'],
  ['errors.ts', 'version.ts'],
];

const unit = (name) => (name.endsWith('.ts') ? `src/${name.replace('.', '[.]')}$` : `src/${name}/`);
const anyOf = (names) => `^(${names.map(unit).join('|')})`;

const forbidden = [
  {
    name: 'no-circular',
    severity: 'error',
    comment: 'A cycle of imports: move the shared part down a layer.',
    from: {path: '^src/'},
    to: {circular: true},
  },
  {
    name: 'protocol-imports-only-protocol',
    severity: 'error',
    comment: 'src/protocol/ holds the contracts: it imports nothing of src/ but itself.',
    from: {path: '^src/protocol/'},
    to: {path: '^src/', pathNot: '^src/protocol/'},
  },
  {
    name: 'not-in-a-layer',
    severity: 'error',
    comment: 'Every folder of src/ has a place in the layer order (.dependency-cruiser.cjs, CONTRIBUTING.md).',
    from: {path: '^src/', pathNot: anyOf(LAYERS.flat())},
    to: {},
  },
];
LAYERS.forEach((layer, i) => {
  const above = LAYERS.slice(0, i).flat();
  for (const name of layer) {
    const siblings = layer.filter((n) => n !== name);
    const banned = [...above, ...siblings];
    if (banned.length === 0) continue;
    forbidden.push({
      name: `layer-${name.replace('.ts', '')}`,
      severity: 'error',
      comment: `${name} may import only its own folder and the layers below it: not ${banned.join(', ')}.`,
      from: {path: anyOf([name])},
      to: {path: anyOf(banned)},
    });
  }
});

module.exports = {
  forbidden,
  options: {
    doNotFollow: {path: 'node_modules'},
    includeOnly: '^src/',
    tsPreCompilationDeps: true,
    tsConfig: {fileName: 'tsconfig.json'},
    enhancedResolveOptions: {extensions: ['.ts', '.js']},
  },
};
