// `meshtv channels`: the live channels of the trackers, merged, as a table or JSON.

import { forTerminal } from '../common/log.js';
import { listChannels } from '../native/tracker-client.js';
import { commandHelp, parse } from './args.js';
import { trackers } from './peer-flags.js';

export async function runChannels(args: string[]): Promise<number> {
  const { values } = parse(args, { tracker: { type: 'string', multiple: true }, json: { type: 'boolean' } });
  if (values.help) return commandHelp();
  const lists = await Promise.all(trackers(values).map((t) => listChannels(t)));
  const seen = new Map<string, (typeof lists)[number][number]>();
  for (const c of lists.flat()) if (!seen.has(c.id)) seen.set(c.id, c);
  const channels = [...seen.values()];
  if (values.json) {
    process.stdout.write(`${JSON.stringify(channels)}\n`);
    return 0;
  }
  if (channels.length === 0) {
    process.stdout.write('no live channels\n');
    return 0;
  }
  for (const c of channels) {
    const more = c.sameNameCount > c.sameNameAs.length ? ` and ${c.sameNameCount - c.sameNameAs.length} more` : '';
    const clash = c.sameNameCount > 0 ? `  (name also used by ${c.sameNameAs.map((id) => id.slice(0, 8)).join(', ')}${more})` : '';
    process.stdout.write(
      `${c.id}  ${String(c.viewers).padStart(5)} viewers  ${((c.bitrateBps ?? 0) / 1000).toFixed(0).padStart(5)} kbit/s  ${forTerminal(c.name, true)}${clash}\n`,
    );
  }
  return 0;
}
