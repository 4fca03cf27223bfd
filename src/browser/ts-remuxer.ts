// MPEG-TS chunks -> fragmented MP4 for Media Source Extensions, one fragment per chunk, with
// the original timestamps. mux.js demuxes (TS packets, PES, H.264 NAL units, ADTS frames) and
// writes the boxes; the cutting policy is ours, made for live chunks rather than HLS segments:
// a fragment may start mid-GOP (it continues the previous one: no GOP fusion, no keyframe
// pulling, which would re-append or distort frames), and after a missing chunk video restarts
// at the next keyframe. Pure data in, bytes out: no DOM, no timers.

import AdtsStream, { type AdtsFrame } from 'mux.js/lib/codecs/adts.js';
import h264, { type NalUnit } from 'mux.js/lib/codecs/h264.js';
import m2ts, { type MetadataEvent, type PesEvent } from 'mux.js/lib/m2ts/m2ts.js';
import mp4, { type Mp4Track, type Sample } from 'mux.js/lib/mp4/mp4-generator.js';
import type Stream from 'mux.js/lib/utils/stream.js';
import { concatBytes } from '../common/bytes.js';
import { MAX_CHUNK_PAYLOAD_BYTES } from '../protocol/chunk.js';
import {
  type AudioConfig,
  audioConfigOf,
  audioTrackOf,
  type Frame,
  initKeyOf,
  lengthPrefix,
  mimeTypeOf,
  type VideoConfig,
  videoSampleOf,
  videoTrackOf,
} from './fmp4-tracks.js';

const TS_PACKET_BYTES = 188;
const CLOCK_HZ = 90_000;
/** Frame duration assumed until two frames have been seen (25 fps). */
const DEFAULT_FRAME_TICKS = 3_600;
/** A decode time this far behind the expected one starts a new timeline (the source restarted). */
const BACKWARD_JUMP_TICKS = CLOCK_HZ;
/** A decode time this far ahead of the expected one starts a new timeline rather than a gap. */
const FORWARD_JUMP_TICKS = 60 * CLOCK_HZ;
/** Chunks to wait for a track the PMT announces before initialising without it. */
const MAX_INIT_WAIT_CHUNKS = 4;

export interface TsChunkIn {
  seq: number;
  captureTimeMs: number;
  flags: number;
  payload: Uint8Array;
}

export interface RemuxInit {
  /** ftyp + moov; append before the next media segment. */
  segment: Uint8Array;
  /** SourceBuffer type, e.g. `video/mp4; codecs="avc1.42c01e,mp4a.40.2"`. */
  mimeType: string;
}

export interface RemuxSegment {
  /** Present when the decoder configuration starts or changes. */
  init: RemuxInit | undefined;
  /** moof + mdat per track (audio first), ready for appendBuffer. */
  media: Uint8Array;
  /** Presentation time span in seconds on the MSE timeline. */
  startS: number;
  endS: number;
  /** Wall time the source captured the start of this chunk (from the chunk header). */
  captureTimeMs: number;
  seq: number;
  /** The fragment starts with a video keyframe (or holds audio only). */
  keyframe: boolean;
}

interface Parsed {
  seq: number;
  captureTimeMs: number;
  video: Frame[];
  audio: AdtsFrame[];
}

export interface RemuxerCounters {
  /** Video frames dropped while waiting for a keyframe (start, after a missing chunk). */
  droppedVideoFrames: number;
  /** Audio frames dropped for the same reason. */
  droppedAudioFrames: number;
  /** Times the source timeline jumped and was re-based to stay continuous. */
  timelineResets: number;
  /** Chunks the demuxer threw on (each restarts at the next keyframe). */
  demuxErrors: number;
}

export class TsRemuxer {
  readonly counters: RemuxerCounters = { droppedVideoFrames: 0, droppedAudioFrames: 0, timelineResets: 0, demuxErrors: 0 };

  private head!: Stream<Uint8Array, Uint8Array>;
  private nals: NalUnit[] = [];
  private adts: AdtsFrame[] = [];
  private pmt: { videoId: number | undefined; audioId: number | undefined } | undefined;

  /** NAL units of the frame being assembled; a frame closes at the next AUD or a clean chunk end. */
  private open: Frame | undefined;
  private needKeyframe = true;
  private video: VideoConfig | undefined;
  private audio: AudioConfig | undefined;
  /** Configuration written in the last init segment; undefined when a new one is needed. */
  private initKey: string | undefined;
  private initTracks: { video: boolean; audio: boolean } | undefined;
  private pending: Parsed[] = [];
  private moofSeq = 1;
  private frameTicks = DEFAULT_FRAME_TICKS;
  /** Added to every source timestamp (90 kHz): 0 until the source's clock jumps. */
  private offsetTicks = 0;
  private nextVideoDts: number | undefined;
  /** Next audio decode time in the audio track's timescale. */
  private nextAudioTime: number | undefined;

  constructor() {
    this.build();
  }

  /** Demuxes one chunk; returns the segments ready to append (none while waiting for a keyframe or config). */
  push(chunk: TsChunkIn): RemuxSegment[] {
    this.nals = [];
    this.adts = [];
    // A chunk cut only for size ends mid-PES: keep the open frame and let the next chunk finish it.
    const cleanEnd = chunk.payload.length % TS_PACKET_BYTES === 0 && chunk.payload.length + TS_PACKET_BYTES <= MAX_CHUNK_PAYLOAD_BYTES;
    try {
      this.head.push(chunk.payload);
      if (cleanEnd) this.head.flush();
    } catch {
      this.counters.demuxErrors++;
      this.discontinuity();
      return [];
    }
    const video = this.collectFrames(cleanEnd);
    const parsed: Parsed = { seq: chunk.seq, captureTimeMs: chunk.captureTimeMs, video: [], audio: [] };
    const hasVideo = this.pmt?.videoId !== undefined;
    for (const f of video) {
      if (this.needKeyframe && !f.keyFrame) {
        this.counters.droppedVideoFrames++;
        continue;
      }
      if (f.keyFrame) this.takeVideoConfig(f);
      if (this.needKeyframe && this.video === undefined) {
        this.counters.droppedVideoFrames++;
        continue;
      }
      this.needKeyframe = false;
      parsed.video.push(f);
    }
    for (const a of this.adts) {
      // Audio waits for video to start, so buffered ranges begin where both can play.
      if (
        hasVideo &&
        (this.needKeyframe || (parsed.video.length > 0 && a.pts < (parsed.video[0] as Frame).pts && this.nextAudioTime === undefined))
      ) {
        this.counters.droppedAudioFrames++;
        continue;
      }
      this.audio = audioConfigOf(a);
      parsed.audio.push(a);
    }
    if (!hasVideo && parsed.audio.length > 0) this.needKeyframe = false;
    if (parsed.video.length === 0 && parsed.audio.length === 0) return [];
    this.pending.push(parsed);
    return this.release();
  }

  /** A chunk is missing: drop partial state, and restart video at the next keyframe. */
  discontinuity(): void {
    this.head.reset();
    this.open = undefined;
    this.needKeyframe = true;
    this.pending = [];
    // nextVideoDts stays: a source restart behind a gap must still be re-based.
    this.nextAudioTime = undefined;
  }

  /** Starts over for a new SourceBuffer: a new init segment will be produced at the next keyframe. */
  reset(): void {
    this.build();
    this.open = undefined;
    this.needKeyframe = true;
    this.video = undefined;
    this.audio = undefined;
    this.initKey = undefined;
    this.initTracks = undefined;
    this.pending = [];
    this.pmt = undefined;
    this.offsetTicks = 0;
    this.nextVideoDts = undefined;
    this.nextAudioTime = undefined;
  }

  private build(): void {
    const packets = new m2ts.TransportPacketStream();
    const parse = new m2ts.TransportParseStream();
    const elementary = new m2ts.ElementaryStream();
    const rollover = new m2ts.TimestampRolloverStream();
    const video = new h264.H264Stream();
    const audio = new AdtsStream();
    packets.pipe(parse).pipe(elementary).pipe(rollover);
    rollover.pipe(video);
    rollover.pipe(audio);
    elementary.on('data', (e: MetadataEvent | PesEvent) => {
      if (e.type !== 'metadata') return;
      this.pmt = {
        videoId: e.tracks.find((t) => t.type === 'video')?.id,
        audioId: e.tracks.find((t) => t.type === 'audio')?.id,
      };
    });
    video.on('data', (n: NalUnit) => this.nals.push(n));
    audio.on('data', (f: AdtsFrame) => this.adts.push(f));
    this.head = packets;
  }

  /** Groups this chunk's NAL units into frames (an AUD starts each access unit, as ffmpeg writes them). */
  private collectFrames(cleanEnd: boolean): Frame[] {
    const done: Frame[] = [];
    for (const n of this.nals) {
      if (n.nalUnitType === 'access_unit_delimiter_rbsp') {
        if (this.open !== undefined && this.open.nals.length > 0) done.push(this.open);
        this.open = { nals: [n], pts: n.pts, dts: n.dts, keyFrame: false, bytes: n.data.byteLength, duration: undefined };
        continue;
      }
      // NAL units before the first AUD belong to a frame whose start was lost: drop them.
      if (this.open === undefined) continue;
      if (n.nalUnitType === 'slice_layer_without_partitioning_rbsp_idr') this.open.keyFrame = true;
      this.open.nals.push(n);
      this.open.bytes += n.data.byteLength;
    }
    if (cleanEnd && this.open !== undefined) {
      done.push(this.open);
      this.open = undefined;
    }
    for (let i = 0; i < done.length; i++) {
      const f = done[i] as Frame;
      const next = done[i + 1];
      if (next !== undefined && next.dts > f.dts) {
        f.duration = next.dts - f.dts;
        this.frameTicks = f.duration;
      } else if (next === undefined && this.open !== undefined && this.open.dts > f.dts) {
        f.duration = this.open.dts - f.dts;
      }
    }
    return done;
  }

  private takeVideoConfig(f: Frame): void {
    const sps = f.nals.find((n) => n.nalUnitType === 'seq_parameter_set_rbsp');
    const pps = f.nals.find((n) => n.nalUnitType === 'pic_parameter_set_rbsp');
    if (sps?.config !== undefined && pps !== undefined) this.video = { config: sps.config, sps: sps.data, pps: pps.data };
  }

  /** Turns pending parsed chunks into segments once the init segment can be written. */
  private release(): RemuxSegment[] {
    const pmt = this.pmt;
    if (pmt === undefined) return [];
    const videoReady = pmt.videoId === undefined || this.video !== undefined;
    const audioReady = pmt.audioId === undefined || this.audio !== undefined;
    if (this.initTracks === undefined) {
      if (!videoReady) return [];
      if (!audioReady && this.pending.length < MAX_INIT_WAIT_CHUNKS) return [];
      this.initTracks = {
        video: pmt.videoId !== undefined && this.video !== undefined,
        audio: pmt.audioId !== undefined && this.audio !== undefined,
      };
    }
    const out: RemuxSegment[] = [];
    for (const p of this.pending) {
      const s = this.segmentOf(p, pmt);
      if (s !== undefined) out.push(s);
    }
    this.pending = [];
    return out;
  }

  private segmentOf(p: Parsed, pmt: { videoId: number | undefined; audioId: number | undefined }): RemuxSegment | undefined {
    const tracks = this.initTracks as { video: boolean; audio: boolean };
    const videoFrames = tracks.video ? p.video : [];
    const audioFrames = tracks.audio ? p.audio : [];
    if (videoFrames.length === 0 && audioFrames.length === 0) return undefined;

    this.rebaseTimeline(videoFrames, audioFrames);
    const parts: Uint8Array[] = [];
    let startS = Number.POSITIVE_INFINITY;
    let endS = Number.NEGATIVE_INFINITY;
    const videoTrack: Mp4Track | undefined =
      tracks.video && this.video !== undefined ? videoTrackOf(pmt.videoId as number, this.video) : undefined;
    const audioTrack: Mp4Track | undefined =
      tracks.audio && this.audio !== undefined ? audioTrackOf(pmt.audioId as number, this.audio) : undefined;

    if (audioTrack !== undefined && audioFrames.length > 0) {
      const rate = audioTrack.samplerate as number;
      let base = Math.round(((audioFrames[0] as AdtsFrame).pts + this.offsetTicks) * (rate / CLOCK_HZ));
      // Keep consecutive chunks sample-exact: rounding must not open holes or overlaps.
      if (this.nextAudioTime !== undefined && Math.abs(base - this.nextAudioTime) <= 512) base = this.nextAudioTime;
      const samples: Sample[] = audioFrames.map((a) => ({ size: a.data.byteLength, duration: a.sampleCount }));
      const duration = audioFrames.reduce((s, a) => s + a.sampleCount, 0);
      this.nextAudioTime = base + duration;
      parts.push(mp4.moof(this.moofSeq++, [{ ...audioTrack, baseMediaDecodeTime: base, samples }]));
      parts.push(mp4.mdat(concatBytes(audioFrames.map((a) => a.data))));
      startS = Math.min(startS, base / rate);
      endS = Math.max(endS, (base + duration) / rate);
    }
    if (videoTrack !== undefined && videoFrames.length > 0) {
      const first = videoFrames[0] as Frame;
      const base = first.dts + this.offsetTicks;
      const samples: Sample[] = [];
      const nalParts: Uint8Array[] = [];
      let lastEnd = base;
      for (const f of videoFrames) {
        const duration = f.duration ?? this.frameTicks;
        samples.push(videoSampleOf(f, duration));
        for (const n of f.nals) nalParts.push(lengthPrefix(n.data.byteLength), n.data);
        lastEnd = f.dts + this.offsetTicks + duration;
      }
      this.nextVideoDts = lastEnd - this.offsetTicks;
      parts.push(mp4.moof(this.moofSeq++, [{ ...videoTrack, baseMediaDecodeTime: base, samples }]));
      parts.push(mp4.mdat(concatBytes(nalParts)));
      startS = Math.min(startS, (first.pts + this.offsetTicks) / CLOCK_HZ);
      endS = Math.max(endS, lastEnd / CLOCK_HZ);
    }

    let init: RemuxInit | undefined;
    const key = initKeyOf(videoTrack !== undefined ? this.video : undefined, audioTrack !== undefined ? this.audio : undefined);
    if (key !== this.initKey) {
      const initTracks = [videoTrack, audioTrack].filter((t): t is Mp4Track => t !== undefined);
      init = { segment: mp4.initSegment(initTracks.map((t) => ({ ...t }))), mimeType: mimeTypeOf(videoTrack, audioTrack) };
      this.initKey = key;
    }
    return {
      init,
      media: concatBytes(parts),
      startS,
      endS,
      captureTimeMs: p.captureTimeMs,
      seq: p.seq,
      keyframe: videoFrames.length === 0 || (videoFrames[0] as Frame).keyFrame,
    };
  }

  /** Keeps the MSE timeline continuous when the source's clock jumps (restart, splice). */
  private rebaseTimeline(video: Frame[], audio: AdtsFrame[]): void {
    const firstDts = video[0]?.dts ?? audio[0]?.dts;
    if (firstDts === undefined) return;
    const expected = this.nextVideoDts;
    if (expected !== undefined) {
      const jump = firstDts - expected;
      if (jump < -BACKWARD_JUMP_TICKS || jump > FORWARD_JUMP_TICKS) {
        this.offsetTicks += -jump;
        this.counters.timelineResets++;
        this.nextAudioTime = undefined;
      }
    }
    // MSE decode times cannot be negative.
    if (firstDts + this.offsetTicks < 0) this.offsetTicks = -firstDts;
  }
}
