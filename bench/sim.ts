// Runs `meshtv sim` with the arguments given (npx tsx bench/sim.ts --peers 1000 --duration-s 120 --json):
// the same entry point the CLI uses, for scenario runs and profiling (node --cpu-prof --import tsx bench/sim.ts ...).

import { runSimCommand } from '../src/cli/sim.js';

process.exitCode = await runSimCommand(process.argv.slice(2));
