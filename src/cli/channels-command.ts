// `meshtv channels`: the live channels of the trackers, merged, as a table or JSON.

import { watchPageUrl } from '../api/channel-uri.js';
import { forTerminal } from '../common/log.js';
import { listChannels } from '../native/tracker-client.js';
import { commandHelp, parse } from './args.js';
import { trackers } from './peer-flags.js';

export async function runChannels(args: string[]): Promise<number> {
  const { values } = parse(args, { tracker: { type: 'string', multiple: true }, json: { type: 'boolean' } });
  if (values.help) return commandHelp();
  const urls = trackers(values);
  const lists = await Promise.all(urls.map((t) => listChannels(t)));
  // Each channel once, with the first tracker that lists it (its web page is there).
  const seen = new Map<string, { channel: (typeof lists)[number][number]; tracker: string }>();
  lists.forEach((list, i) => {
    for (const c of list) if (!seen.has(c.id)) seen.set(c.id, { channel: c, tracker: urls[i] as string });
  });
  const channels = [...seen.values()].map((e) => e.channel);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(channels)}\n`);
    return 0;
  }
  if (channels.length === 0) {
    process.stdout.write('no live channels\n');
    return 0;
  }
  process.stdout.write(`${channels.length} live channel${channels.length === 1 ? '' : 's'} (watch one: meshtv watch ID or NAME)\n`);
  for (const { channel: c, tracker } of seen.values()) {
    const more = c.sameNameCount > c.sameNameAs.length ? ` and ${c.sameNameCount - c.sameNameAs.length} more` : '';
    const clash = c.sameNameCount > 0 ? `  (name also used by ${c.sameNameAs.map((id) => id.slice(0, 8)).join(', ')}${more})` : '';
    process.stdout.write(
      `${c.id}  ${String(c.viewers).padStart(5)} viewers  ${((c.bitrateBps ?? 0) / 1000).toFixed(0).padStart(5)} kbit/s  ${forTerminal(c.name, true)}${clash}\n`,
    );
    process.stdout.write(`    web page: ${watchPageUrl(tracker, c.id)}\n`);
  }
  return 0;
}
