// The byte counts the bench reads from its servers' stats (the broadcaster's stats.json, the
// fan-out's /stats), and the broadcaster's counts summed over its lives.

export type FanoutStats = { bytesSent: number; mediaBytesInFromSource: number };
// Bytes the broadcaster sent both ways, the swarm and its HTTP origin (S counts both).
export type SourceStats = { bytesProduced: number; mediaBytesSent: number; chunksProduced: number };
export type SourceBytes = Pick<SourceStats, 'bytesProduced' | 'mediaBytesSent'>;

export async function readSource(url: string): Promise<SourceStats> {
  const s = (await (await fetch(url)).json()) as SourceStats & { originBytesSent: number };
  return { bytesProduced: s.bytesProduced, mediaBytesSent: s.mediaBytesSent + s.originBytesSent, chunksProduced: s.chunksProduced };
}

export async function readFanout(url: string): Promise<FanoutStats> {
  return (await (await fetch(`${url}stats`)).json()) as FanoutStats;
}

/**
 * The broadcaster's byte counts over the measured span, across its lives: a restarted
 * broadcaster counts from zero, so what the killed one counted is carried over.
 */
export class SourceLedger {
  private carried: SourceBytes = { bytesProduced: 0, mediaBytesSent: 0 };
  private base: SourceBytes = { bytesProduced: 0, mediaBytesSent: 0 };

  /** The span starts with the current broadcaster at these counts. */
  begin(counts: SourceBytes): void {
    this.base = { bytesProduced: counts.bytesProduced, mediaBytesSent: counts.mediaBytesSent };
  }

  /** The current broadcaster is killed at these counts; the next one starts from zero. */
  restarting(last: SourceBytes): void {
    this.carried = this.total(last);
    this.base = { bytesProduced: 0, mediaBytesSent: 0 };
  }

  /** Produced and sent over the span, the current broadcaster being at `now`. */
  total(now: SourceBytes): SourceBytes {
    return {
      bytesProduced: this.carried.bytesProduced + now.bytesProduced - this.base.bytesProduced,
      mediaBytesSent: this.carried.mediaBytesSent + now.mediaBytesSent - this.base.mediaBytesSent,
    };
  }
}
