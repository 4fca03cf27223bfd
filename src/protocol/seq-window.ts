// A neighbour's holdings as a sliding bitmap over sequence numbers (used by PeerCore). Pure data.

/**
 * Slots of a SeqWindow: 51 s of 100 ms chunks. Less than the store's window plus the
 * look-ahead (60 + 10 s): holdings older than 51 s behind a neighbour's newest are forgotten,
 * which no viewer needs (playback gives up on a chunk 8 s behind capture).
 */
const SEQ_WINDOW_BITS = 512;

/**
 * What a neighbour holds, as a bitmap over the newest SEQ_WINDOW_BITS sequence numbers it
 * announced: the scheduler asks has() for every neighbour and chunk, and a Set<number> made
 * that the hottest path of a whole swarm. Older numbers drop out as newer ones come in.
 */
export class SeqWindow {
  private readonly words = new Uint32Array(SEQ_WINDOW_BITS / 32);
  private newest = -1;
  private count = 0;

  get size(): number {
    return this.count;
  }

  has(seq: number): boolean {
    if (seq > this.newest || seq <= this.newest - SEQ_WINDOW_BITS || seq < 0) return false;
    const i = seq % SEQ_WINDOW_BITS;
    return ((this.words[i >>> 5] as number) & (1 << (i & 31))) !== 0;
  }

  add(seq: number): void {
    if (seq <= this.newest - SEQ_WINDOW_BITS || seq < 0) return;
    if (seq > this.newest) {
      // Slots between the old newest and seq now stand for new numbers: empty them.
      if (this.newest < 0 || seq - this.newest >= SEQ_WINDOW_BITS) this.clear();
      else for (let s = this.newest + 1; s < seq; s++) this.clearSlot(s);
      this.clearSlot(seq);
      this.newest = seq;
    }
    const i = seq % SEQ_WINDOW_BITS;
    const w = this.words[i >>> 5] as number;
    const bit = 1 << (i & 31);
    if ((w & bit) === 0) {
      this.words[i >>> 5] = w | bit;
      this.count++;
    }
  }

  delete(seq: number): boolean {
    if (!this.has(seq)) return false;
    this.clearSlot(seq);
    return true;
  }

  deleteBelow(start: number): void {
    for (let s = Math.max(0, this.newest - SEQ_WINDOW_BITS + 1); s < start && s <= this.newest; s++) this.clearSlot(s);
  }

  clear(): void {
    this.words.fill(0);
    this.count = 0;
  }

  private clearSlot(seq: number): void {
    const i = seq % SEQ_WINDOW_BITS;
    const w = this.words[i >>> 5] as number;
    const bit = 1 << (i & 31);
    if ((w & bit) !== 0) {
      this.words[i >>> 5] = w & ~bit;
      this.count--;
    }
  }
}
