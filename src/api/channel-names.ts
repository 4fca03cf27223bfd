// Finding a channel by what a person types: its name in any case, or the start of its name or
// of one of its words ("demo" finds "meshtv demo"), as long as only one channel fits.

export interface NamedChannel {
  id: string;
  name: string;
}

export type NameMatch =
  | { kind: 'one'; id: string }
  | { kind: 'none' }
  /** Several channels fit; `names` says which, to pick one by its id. */
  | { kind: 'several'; channels: NamedChannel[] };

/** The channel `query` names among `live` (the same channel from several trackers counts once). */
export function matchChannelName(query: string, live: readonly NamedChannel[]): NameMatch {
  const q = query.trim().toLowerCase();
  const byId = new Map<string, NamedChannel>();
  for (const c of live) if (!byId.has(c.id)) byId.set(c.id, c);
  const all = [...byId.values()];
  const exact = all.filter((c) => c.name.toLowerCase() === q);
  const fits = exact.length > 0 || q === '' ? exact : all.filter((c) => startsAWord(c.name.toLowerCase(), q));
  if (fits.length === 0) return { kind: 'none' };
  if (fits.length === 1) return { kind: 'one', id: (fits[0] as NamedChannel).id };
  return { kind: 'several', channels: fits };
}

function startsAWord(name: string, q: string): boolean {
  if (name.startsWith(q)) return true;
  for (let i = name.indexOf(' '); i >= 0; i = name.indexOf(' ', i + 1)) if (name.startsWith(q, i + 1)) return true;
  return false;
}
