// What a viewer has asked of its neighbours: each neighbour's own requests out (its `pending`
// map, seq -> when asked) and, kept in step with them, how many neighbours each chunk is asked
// of, so "is this chunk on its way" is one lookup for the scheduler and the playout. It decides
// nothing: PeerCore asks, takes back and times out, and goes through here to do it.

/** The part of a neighbour the book keeps: its requests out. */
export interface RequestHolder {
  readonly pending: Map<number, number>;
}

export class RequestBook {
  /** seq -> how many neighbours it is asked of (absent: none). */
  private readonly counts = new Map<number, number>();

  /** Whether some neighbour was asked for `seq` and has not answered. */
  has(seq: number): boolean {
    return this.counts.has(seq);
  }

  /** How many distinct chunks are asked for. */
  get size(): number {
    return this.counts.size;
  }

  /** Notes that `seq` was asked of `n` at `nowMs` (asking it again only moves the time). */
  add(n: RequestHolder, seq: number, nowMs: number): void {
    const again = n.pending.has(seq);
    n.pending.set(seq, nowMs);
    if (!again) this.counts.set(seq, (this.counts.get(seq) ?? 0) + 1);
  }

  /** Forgets that `seq` was asked of `n`; true when it had been. */
  remove(n: RequestHolder, seq: number): boolean {
    if (!n.pending.delete(seq)) return false;
    const count = (this.counts.get(seq) ?? 1) - 1;
    if (count > 0) this.counts.set(seq, count);
    else this.counts.delete(seq);
    return true;
  }

  /** Forgets every request out to `n` (it left, misbehaved, or the stream restarted). */
  removeAll(n: RequestHolder): void {
    for (const seq of n.pending.keys()) this.remove(n, seq);
  }
}
