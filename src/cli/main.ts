// The `meshtv` command line: hands each command to its module (<command>-command.ts, tools.ts),
// which parses its flags strictly and starts its composition root.
// User errors print one line and exit 1; anything else is a bug and prints its stack.

import { UserError } from '../common/errors.js';
import { setCommand } from './args.js';
import { runBroadcast } from './broadcast-command.js';
import { runChannels } from './channels-command.js';
import { runDemo } from './demo-command.js';
import { runToolCommand, TOOL_COMMANDS } from './tools.js';
import { runTracker } from './tracker-command.js';
import { runTv } from './tv-command.js';
import { USAGE } from './usage.js';
import { runWatch } from './watch-command.js';

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  setCommand(command);
  if (TOOL_COMMANDS.has(command)) return runToolCommand(command, rest);
  switch (command) {
    case 'tracker':
      return runTracker(rest);
    case 'broadcast':
      return runBroadcast(rest);
    case 'watch':
      return runWatch(rest);
    case 'channels':
      return runChannels(rest);
    case 'demo':
      return runDemo(rest);
    case 'tv':
      return runTv(rest);
    default:
      throw new UserError(`unknown command "${command}"; run meshtv --help`);
  }
}
