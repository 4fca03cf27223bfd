// The peers announced for one channel at the tracker: found by id, and sampled at random for an
// announce answer in time proportional to the answer, not to the swarm. Copying and shuffling
// the whole swarm for each answer cost a flash crowd of 50,000 joiners (maxPeersPerChannel) a
// copy of 50,000 entries per join.

import type { RandomFn } from '../protocol/random.js';

/** What the list needs of an entry. */
export interface ListedPeer {
  readonly peerId: string;
  readonly role: 'source' | 'viewer';
  /** Whom the entry is counted against (the address group it was announced from), if anyone. */
  readonly group?: string;
}

export class PeerList<E extends ListedPeer> {
  private readonly byId = new Map<string, E>();
  private readonly sources = new Map<string, E>();
  /** The viewers packed densely, so one can be drawn by index; `slotOf` holds each one's place. */
  private readonly viewers: E[] = [];
  private readonly slotOf = new Map<string, number>();
  /** Entries per group, so that one address cannot fill a swarm's answers. */
  private readonly perGroup = new Map<string, number>();

  get size(): number {
    return this.byId.size;
  }

  get viewerCount(): number {
    return this.viewers.length;
  }

  get hasSource(): boolean {
    return this.sources.size > 0;
  }

  get sourceCount(): number {
    return this.sources.size;
  }

  /** Entries announced from `group`. */
  countIn(group: string): number {
    return this.perGroup.get(group) ?? 0;
  }

  get(peerId: string): E | undefined {
    return this.byId.get(peerId);
  }

  values(): IterableIterator<E> {
    return this.byId.values();
  }

  /** Adds an entry or replaces the one with its id (a role change moves it between the lists). */
  set(entry: E): void {
    const old = this.byId.get(entry.peerId);
    if (old !== undefined && (old.role !== entry.role || old.group !== entry.group)) this.delete(entry.peerId);
    if (entry.group !== undefined && !this.byId.has(entry.peerId))
      this.perGroup.set(entry.group, (this.perGroup.get(entry.group) ?? 0) + 1);
    this.byId.set(entry.peerId, entry);
    if (entry.role === 'source') {
      this.sources.set(entry.peerId, entry);
      return;
    }
    const slot = this.slotOf.get(entry.peerId);
    if (slot === undefined) this.slotOf.set(entry.peerId, this.viewers.push(entry) - 1);
    else this.viewers[slot] = entry;
  }

  delete(peerId: string): boolean {
    const entry = this.byId.get(peerId);
    if (entry === undefined) return false;
    this.byId.delete(peerId);
    if (entry.group !== undefined) {
      const left = (this.perGroup.get(entry.group) ?? 1) - 1;
      if (left > 0) this.perGroup.set(entry.group, left);
      else this.perGroup.delete(entry.group);
    }
    this.sources.delete(peerId);
    const slot = this.slotOf.get(peerId);
    if (slot !== undefined) {
      // The last viewer takes the freed place, so the array stays dense.
      const last = this.viewers.pop() as E;
      if (last.peerId !== peerId) {
        this.viewers[slot] = last;
        this.slotOf.set(last.peerId, slot);
      }
      this.slotOf.delete(peerId);
    }
    return true;
  }

  /**
   * Up to `count` entries other than `exceptId`: every source first (a channel has one, or a
   * few while a broadcaster restarts), then viewers drawn at random without repeats.
   */
  sample(count: number, exceptId: string, random: RandomFn): E[] {
    const out: E[] = [];
    for (const s of this.sources.values()) if (out.length < count && s.peerId !== exceptId) out.push(s);
    const want = count - out.length;
    if (want <= 0) return out;
    const except = this.slotOf.get(exceptId);
    const n = this.viewers.length;
    if (n - (except === undefined ? 0 : 1) <= 2 * want) {
      // Few enough to take most of them: a partial shuffle of a copy.
      const pool = except === undefined ? [...this.viewers] : this.viewers.filter((_, i) => i !== except);
      const take = Math.min(want, pool.length);
      for (let i = 0; i < take; i++) {
        const j = i + Math.floor(random() * (pool.length - i));
        [pool[i], pool[j]] = [pool[j] as E, pool[i] as E];
      }
      for (let i = 0; i < take; i++) out.push(pool[i] as E);
      return out;
    }
    // Many more than wanted: draw places at random, drawing again on a repeat (fewer than one
    // extra draw per pick on average, since at most half the places can be taken or excluded).
    const drawn = new Set<number>();
    while (drawn.size < want) {
      const i = Math.floor(random() * n);
      if (i === except || drawn.has(i)) continue;
      drawn.add(i);
      out.push(this.viewers[i] as E);
    }
    return out;
  }
}
