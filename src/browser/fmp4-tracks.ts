// The fMP4 side of the TS remuxer (ts-remuxer.ts): the frames it assembles, the decoder
// configurations it keeps, and the tracks, samples and codec strings mux.js's box writer is
// given for them. Pure functions over plain data.

import type { AdtsFrame } from 'mux.js/lib/codecs/adts.js';
import type { NalUnit, SpsConfig } from 'mux.js/lib/codecs/h264.js';
import type { Mp4Track, Sample } from 'mux.js/lib/mp4/mp4-generator.js';

export interface Frame {
  nals: NalUnit[];
  pts: number;
  dts: number;
  keyFrame: boolean;
  bytes: number;
  /** Filled in once the next frame's decode time is known. */
  duration: number | undefined;
}

export interface VideoConfig {
  config: SpsConfig;
  sps: Uint8Array;
  pps: Uint8Array;
}

export interface AudioConfig {
  audioobjecttype: number;
  channelcount: number;
  samplerate: number;
  samplingfrequencyindex: number;
}

/** One video frame as an fMP4 sample: its AVCC size (a 4-byte length before each NAL unit) and flags. */
export function videoSampleOf(f: Frame, duration: number): Sample {
  return {
    size: f.bytes + 4 * f.nals.length,
    duration,
    compositionTimeOffset: Math.max(0, f.pts - f.dts),
    flags: {
      isLeading: 0,
      dependsOn: f.keyFrame ? 2 : 1,
      isDependedOn: 0,
      hasRedundancy: 0,
      degradationPriority: 0,
      isNonSyncSample: f.keyFrame ? 0 : 1,
    },
  };
}

export function audioConfigOf(a: AdtsFrame): AudioConfig {
  return {
    audioobjecttype: a.audioobjecttype,
    channelcount: a.channelcount,
    samplerate: a.samplerate,
    samplingfrequencyindex: a.samplingfrequencyindex,
  };
}

export function videoTrackOf(id: number, v: VideoConfig): Mp4Track {
  return {
    id,
    type: 'video',
    width: v.config.width,
    height: v.config.height,
    profileIdc: v.config.profileIdc,
    levelIdc: v.config.levelIdc,
    profileCompatibility: v.config.profileCompatibility,
    sarRatio: v.config.sarRatio,
    sps: [v.sps],
    pps: [v.pps],
  };
}

export function audioTrackOf(id: number, a: AudioConfig): Mp4Track {
  return { id, type: 'audio', ...a, samplesize: 16 };
}

export function initKeyOf(v: VideoConfig | undefined, a: AudioConfig | undefined): string {
  const video = v === undefined ? '-' : `${hex(v.sps)}/${hex(v.pps)}`;
  const audio = a === undefined ? '-' : `${a.audioobjecttype}/${a.samplerate}/${a.channelcount}`;
  return `${video}|${audio}`;
}

/** RFC 6381 codec parameters: avc1.PPCCLL from the SPS, mp4a.40.<audio object type>. */
export function mimeTypeOf(video: Mp4Track | undefined, audio: Mp4Track | undefined): string {
  const codecs: string[] = [];
  if (video !== undefined) {
    codecs.push(`avc1.${byteHex(video.profileIdc ?? 0)}${byteHex(video.profileCompatibility ?? 0)}${byteHex(video.levelIdc ?? 0)}`);
  }
  if (audio !== undefined) codecs.push(`mp4a.40.${audio.audioobjecttype ?? 2}`);
  return `${video !== undefined ? 'video' : 'audio'}/mp4; codecs="${codecs.join(',')}"`;
}

function byteHex(n: number): string {
  return (n & 0xff).toString(16).padStart(2, '0');
}

function hex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += byteHex(x);
  return s;
}

export function lengthPrefix(n: number): Uint8Array {
  return new Uint8Array([(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}
