/**
 * Entry of `npm run faults` (node dist/faults/main.js [--subset ci|all] [--only a,b] [--out DIR]):
 * runs the fault scenarios against this build, prints the table and writes the JSON report.
 * Exit 0 only when every scenario met its expectation; 2 on bad arguments.
 */
import {closingLine, renderFaultsTable, runFaults} from './suite.js';

function usage(message: string): never {
  process.stderr.write(`faults: ${message}\nusage: node dist/faults/main.js [--subset ci|all] [--only NAME,NAME] [--out DIR]\n`);
  process.exit(2);
}

const argv = process.argv.slice(2);
let subset: 'ci' | 'all' = 'all';
let only: string[] | undefined;
let outDir = 'reports/faults';
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const value = () => argv[++i] ?? usage(`${a} needs a value`);
  if (a === '--subset') {
    const v = value();
    if (v !== 'ci' && v !== 'all') usage(`--subset: "${v}" is not ci or all`);
    subset = v;
  } else if (a === '--only') only = value().split(',').map((s) => s.trim()).filter(Boolean);
  else if (a === '--out') outDir = value();
  else usage(`unknown argument ${a}`);
}

try {
  const {report, path} = await runFaults({subset, only, outDir});
  process.stdout.write(`${renderFaultsTable(report)}\n${closingLine(report)}\nreport: ${path}\n`);
  process.exitCode = report.failed === 0 ? 0 : 1;
} catch (err) {
  usage(err instanceof Error ? err.message : String(err));
}
