// What a native viewer hands its players: the chunks its lanes play, to /stream.ts and the HLS
// segmenter, with a gap marked where chunks were given up or the rendition changed, and the
// end of the channel.

import type { Logger } from '../common/log.js';
import type { HlsSegmenter } from '../media/hls-segmenter.js';
import type { StreamOutput } from '../media/stream-output.js';
import { FLAG_END_OF_STREAM } from '../protocol/chunk.js';
import type { RenditionLane, RenditionLanes } from '../runtime/rendition-lanes.js';

export interface PlayerOutput {
  readonly stream: StreamOutput;
  readonly hls: HlsSegmenter;
  /** Resolves when the channel's last chunk has been played. */
  readonly ended: Promise<void>;
  readonly isEnded: boolean;
  /** From joining to the first chunk played. */
  readonly startupMs: number | undefined;
}

export function playerOutput(
  lanes: RenditionLanes<RenditionLane, Record<string, number>>,
  stream: StreamOutput,
  hls: HlsSegmenter,
  log: Logger,
): PlayerOutput {
  const joinedAt = Date.now();
  let endedResolve: () => void = () => {};
  const state = {
    stream,
    hls,
    ended: new Promise<void>((resolve) => {
      endedResolve = resolve;
    }),
    isEnded: false,
    startupMs: undefined as number | undefined,
  };
  lanes.events.on('skip', () => {
    if (!state.isEnded) hls.skip();
  });
  lanes.events.on('switched', (e) => {
    if (state.isEnded) return;
    log.info(`now playing ${e.to.name} (was ${e.from.name})`);
    // The next segment starts at the new rendition's keyframe, marked as a discontinuity.
    hls.skip();
  });
  lanes.events.on('play', (chunk) => {
    if (state.isEnded) return;
    state.startupMs ??= Date.now() - joinedAt;
    stream.play(chunk);
    hls.play(chunk);
    if ((chunk.flags & FLAG_END_OF_STREAM) === 0) return;
    state.isEnded = true;
    stream.end();
    hls.end();
    log.info('channel ended');
    endedResolve();
  });
  return state;
}
