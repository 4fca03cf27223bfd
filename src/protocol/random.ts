// Seeded pseudo-random source (mulberry32). The core takes randomness as an input so that
// a simulation with the same seed replays exactly; runtimes seed it from real entropy.

export type RandomFn = () => number;

export function seededRandom(seed: number): RandomFn {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks one element uniformly; undefined for an empty list. */
export function pick<T>(items: readonly T[], random: RandomFn): T | undefined {
  return items.length === 0 ? undefined : items[Math.floor(random() * items.length)];
}
