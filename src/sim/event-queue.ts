// Virtual-time event queue of the simulator: one bucket per integer millisecond, events in a
// bucket run in the order they were scheduled. Integer times keep runs reproducible (no float
// ties) and make scheduling O(1); 1 ms is far below any latency or serialization time modelled.

export class EventQueue<E> {
  private readonly buckets = new Map<number, E[]>();
  private nowMs = 0;
  private count = 0;

  get now(): number {
    return this.nowMs;
  }

  get size(): number {
    return this.count;
  }

  /** Schedules `event` at `atMs` (rounded up to the next millisecond, never in the past). */
  push(atMs: number, event: E): void {
    let t = Math.ceil(atMs);
    if (t < this.nowMs) t = this.nowMs;
    let bucket = this.buckets.get(t);
    if (bucket === undefined) {
      bucket = [];
      this.buckets.set(t, bucket);
    }
    bucket.push(event);
    this.count++;
  }

  /**
   * Runs every event up to and including `endMs` in time order; events scheduled for the current
   * millisecond while it runs are run in the same pass.
   */
  run(endMs: number, handle: (event: E, nowMs: number) => void): void {
    while (this.nowMs <= endMs) {
      const bucket = this.buckets.get(this.nowMs);
      if (bucket !== undefined) {
        for (let i = 0; i < bucket.length; i++) {
          this.count--;
          handle(bucket[i] as E, this.nowMs);
        }
        this.buckets.delete(this.nowMs);
      }
      if (this.count === 0) break;
      this.nowMs++;
    }
    if (this.nowMs < endMs) this.nowMs = endMs;
  }
}
