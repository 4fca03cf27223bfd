// What a viewer says when every chunk it is offered is too old to start on (the core's
// 'not-live' event, PeerCoreConfig.maxStartAgeMs): the channel stopped, or someone replays it.
// One wording for the command line and the web page.

/** An age as people say it: 45 s, 12 min, 3 h, 2 days. */
export function describeAge(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 120) return `${min} min`;
  const h = Math.round(min / 60);
  return h < 48 ? `${h} h` : `${Math.round(h / 24)} days`;
}

export function notLiveMessage(ageMs: number): string {
  return `channel is not live: its newest chunk is ${describeAge(ageMs)} old; still looking for live peers`;
}
