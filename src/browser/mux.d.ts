// Type declarations for the parts of mux.js (videojs/mux.js, no types of its own) that the
// player uses: the MPEG-TS demuxing streams, the H.264 and ADTS parsers and the MP4 box writer.
// Deep imports keep the browser bundle to these modules instead of the whole library.

declare module 'mux.js/lib/utils/stream.js' {
  /** mux.js's tiny synchronous event stream: push() data in, 'data' events out, flush() cascades down pipes. */
  export default class Stream<In = unknown, Out = unknown> {
    push(data: In): void;
    flush(flushSource?: string): void;
    reset(flushSource?: string): void;
    pipe<D extends Stream<Out, unknown>>(destination: D): D;
    on(event: 'data', listener: (data: Out) => void): void;
    on(event: string, listener: (...args: unknown[]) => void): void;
    off(event: string, listener: (...args: unknown[]) => boolean): boolean;
  }
}

declare module 'mux.js/lib/m2ts/m2ts.js' {
  import type Stream from 'mux.js/lib/utils/stream.js';

  export interface PmtTrack {
    id: number;
    codec: 'avc' | 'adts';
    type: 'video' | 'audio';
  }
  export interface MetadataEvent {
    type: 'metadata';
    tracks: PmtTrack[];
  }
  export interface PesEvent {
    type: 'video' | 'audio' | 'timed-metadata';
    trackId: number;
    /** 90 kHz ticks; after the rollover stream, continuous past 2^33. */
    pts: number;
    dts: number;
    data: Uint8Array;
  }

  interface M2ts {
    TransportPacketStream: new () => Stream<Uint8Array, Uint8Array>;
    TransportParseStream: new () => Stream<Uint8Array, unknown>;
    ElementaryStream: new () => Stream<unknown, MetadataEvent | PesEvent>;
    TimestampRolloverStream: new (type?: string) => Stream<MetadataEvent | PesEvent, MetadataEvent | PesEvent>;
  }
  const m2ts: M2ts;
  export default m2ts;
}

declare module 'mux.js/lib/codecs/h264.js' {
  import type { MetadataEvent, PesEvent } from 'mux.js/lib/m2ts/m2ts.js';
  import type Stream from 'mux.js/lib/utils/stream.js';

  export interface SpsConfig {
    profileIdc: number;
    levelIdc: number;
    profileCompatibility: number;
    width: number;
    height: number;
    sarRatio: [number, number];
  }
  export interface NalUnit {
    trackId: number;
    pts: number;
    dts: number;
    data: Uint8Array;
    nalUnitTypeCode: number;
    nalUnitType?:
      | 'slice_layer_without_partitioning_rbsp_idr'
      | 'sei_rbsp'
      | 'seq_parameter_set_rbsp'
      | 'pic_parameter_set_rbsp'
      | 'access_unit_delimiter_rbsp';
    config?: SpsConfig;
  }
  interface H264 {
    H264Stream: new () => Stream<MetadataEvent | PesEvent, NalUnit>;
  }
  const h264: H264;
  export default h264;
}

declare module 'mux.js/lib/codecs/adts.js' {
  import type { MetadataEvent, PesEvent } from 'mux.js/lib/m2ts/m2ts.js';
  import type Stream from 'mux.js/lib/utils/stream.js';

  export interface AdtsFrame {
    pts: number;
    dts: number;
    sampleCount: number;
    audioobjecttype: number;
    channelcount: number;
    samplerate: number;
    samplingfrequencyindex: number;
    samplesize: number;
    /** The raw AAC frame, without its ADTS header. */
    data: Uint8Array;
  }
  const AdtsStream: new () => Stream<MetadataEvent | PesEvent, AdtsFrame>;
  export default AdtsStream;
}

declare module 'mux.js/lib/mp4/mp4-generator.js' {
  export interface SampleFlags {
    isLeading: number;
    dependsOn: number;
    isDependedOn: number;
    hasRedundancy: number;
    degradationPriority: number;
    isNonSyncSample: number;
  }
  export interface Sample {
    size: number;
    duration: number;
    compositionTimeOffset?: number;
    flags?: SampleFlags;
  }
  /** A track as the box writer reads it; fields beyond id/type depend on the box. */
  export interface Mp4Track {
    id: number;
    type: 'video' | 'audio';
    baseMediaDecodeTime?: number;
    samples?: Sample[];
    duration?: number;
    // video
    width?: number;
    height?: number;
    profileIdc?: number;
    levelIdc?: number;
    profileCompatibility?: number;
    sarRatio?: [number, number];
    sps?: Uint8Array[];
    pps?: Uint8Array[];
    // audio
    audioobjecttype?: number;
    channelcount?: number;
    samplerate?: number;
    samplingfrequencyindex?: number;
    samplesize?: number;
  }
  interface Mp4Generator {
    /** ftyp + moov for these tracks. */
    initSegment(tracks: Mp4Track[]): Uint8Array;
    moof(sequenceNumber: number, tracks: Mp4Track[]): Uint8Array;
    mdat(data: Uint8Array): Uint8Array;
  }
  const mp4: Mp4Generator;
  export default mp4;
}
