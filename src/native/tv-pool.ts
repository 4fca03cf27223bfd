// Which channels the TV gateway holds joined: a pure policy over plain data. A channel stays
// joined while a player reads it and for a linger time after (zapping back is then instant);
// at most maxChannels at once, since IPTV apps prefetch and preview and each joined channel
// costs a swarm's download. Past the cap, a lingering channel makes room; if every joined
// channel is being watched, the request is refused with a message that says how to raise it.

export interface HeldChannel {
  readonly id: string;
  /** Players reading it now (stream clients, and HLS players that asked recently). */
  readonly players: number;
  /** When the last player left (or the channel was joined); meaningless while players > 0. */
  readonly idleSinceMs: number;
}

export type JoinDecision = { kind: 'held' } | { kind: 'join'; leave: string | undefined } | { kind: 'full'; message: string };

export function decideJoin(held: readonly HeldChannel[], id: string, maxChannels: number): JoinDecision {
  if (held.some((c) => c.id === id)) return { kind: 'held' };
  if (held.length < maxChannels) return { kind: 'join', leave: undefined };
  const idle = held.filter((c) => c.players === 0).sort((a, b) => a.idleSinceMs - b.idleSinceMs);
  const oldest = idle[0];
  if (oldest !== undefined) return { kind: 'join', leave: oldest.id };
  return { kind: 'full', message: capMessage(maxChannels) };
}

/** The answer when every joined channel is being watched. */
export function capMessage(maxChannels: number): string {
  return (
    `the gateway already plays ${maxChannels} channel${maxChannels === 1 ? '' : 's'} at once, its cap; ` +
    'stop one, or restart meshtv tv with a higher --max-channels\n'
  );
}

/** Channels nobody has read for lingerMs: to leave. */
export function lingerExpired(held: readonly HeldChannel[], nowMs: number, lingerMs: number): string[] {
  return held.filter((c) => c.players === 0 && nowMs - c.idleSinceMs >= lingerMs).map((c) => c.id);
}
