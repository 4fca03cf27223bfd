// What a viewer's download carries, as far as its fetches show: PeerCore notes every chunk that
// arrives, the rendition choice (AbrController) reads the rate. Pure: times are inputs.

/** Recent fetches whose rates tell the download capacity. */
const FETCH_WINDOW = 16;

export class FetchRateMeter {
  /** Rates (bit/s) of the last FETCH_WINDOW requested chunks, request to arrival, and their count. */
  private readonly fetchBps: number[] = [];
  private fetchSamples = 0;
  /**
   * Rates (bit/s) from the spacing of chunk arrivals: a requested chunk that was on its way
   * when the previous chunk arrived came in behind it on our download link, so its size over
   * the gap is at most what that link carries.
   */
  private readonly spacingBps: number[] = [];
  private spacingSamples = 0;
  private lastArrivalMs: number | undefined;

  /** A chunk of `bytes` arrived; `askedAtMs` is when it was requested (undefined: it came unasked). */
  noteArrival(nowMs: number, bytes: number, askedAtMs: number | undefined): void {
    if (askedAtMs !== undefined && bytes > 0) {
      this.fetchBps[this.fetchSamples++ % FETCH_WINDOW] = (bytes * 8000) / Math.max(nowMs - askedAtMs, 1);
      const last = this.lastArrivalMs;
      if (last !== undefined && askedAtMs < last && nowMs > last)
        this.spacingBps[this.spacingSamples++ % FETCH_WINDOW] = (bytes * 8000) / (nowMs - last);
    }
    this.lastArrivalMs = nowMs;
  }

  /**
   * Bit/s, two lower bounds, the higher one wins: the second fastest of the last 16 requested
   * chunks (bytes over request-to-arrival time; one chunk comes from one holder, and with small
   * chunks the round trip weighs most), and the second highest of the last 16 arrival spacings,
   * which the round trip does not enter. Whether the swarm supplies a higher rendition is
   * another question, which only trying it answers. Undefined before the first fetch.
   */
  rate(): { peakBps: number | undefined; samples: number } {
    if (this.fetchBps.length === 0) return { peakBps: undefined, samples: 0 };
    const second = (xs: number[]) => [...xs].sort((a, b) => b - a)[Math.min(1, xs.length - 1)] ?? 0;
    return { peakBps: Math.round(Math.max(second(this.fetchBps), second(this.spacingBps))), samples: this.fetchSamples };
  }
}
