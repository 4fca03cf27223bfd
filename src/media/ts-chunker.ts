// Cuts a live MPEG-TS byte stream into chunks at packet boundaries. A chunk starts either at a
// video keyframe (together with the PAT/PMT the muxer writes just before it, so a viewer can
// start decoding there: FLAG_KEYFRAME) or at the first video frame once the current chunk
// holds `targetChunkMs` of media, measured on the PES timestamps rather than on arrival times.
// Pure parsing: bytes in, pieces out; the wall time of arrival is an input.

import { concatBytes } from '../common/bytes.js';
import { CHUNK_MS, FLAG_KEYFRAME, MAX_CHUNK_PAYLOAD_BYTES } from '../protocol/chunk.js';

export const TS_PACKET_BYTES = 188;
const SYNC = 0x47;
const PAT_PID = 0;
const SDT_PID = 0x11;
/** H.264, HEVC, MPEG-2 and MPEG-1 video stream types (ISO 13818-1 table 2-34 and amendments). */
const VIDEO_STREAM_TYPES = new Set([0x1b, 0x24, 0x02, 0x01]);

export interface TsPiece {
  payload: Uint8Array;
  flags: number;
  /** Wall time at which the piece's first packet arrived. */
  captureTimeMs: number;
  /** Media time the piece covers, from video timestamps (undefined when not measurable). */
  mediaMs: number | undefined;
}

export interface TsChunkerOptions {
  /** Media duration aimed at per chunk. @default CHUNK_MS */
  targetChunkMs: number;
}

export class TsChunker {
  private carry: Uint8Array = new Uint8Array(0);
  private packets: Uint8Array[] = [];
  private flags = 0;
  private startedAtMs = 0;
  private startPts: number | undefined;
  private lastPts: number | undefined;
  /** Video frame duration in 90 kHz ticks, from consecutive timestamps. */
  private frameTicks: number | undefined;
  private psiRunFrom: number | undefined;
  private pmtPid: number | undefined;
  private videoPid: number | undefined;
  private bytes = 0;
  private synced = false;
  /** Bytes dropped while looking for packet sync (garbage in the input). */
  droppedBytes = 0;

  constructor(private readonly options: TsChunkerOptions = { targetChunkMs: CHUNK_MS }) {}

  /** Feeds bytes; returns the chunks completed by them. */
  push(data: Uint8Array, nowMs: number): TsPiece[] {
    const out: TsPiece[] = [];
    let buf: Uint8Array = this.carry.length > 0 ? concatBytes([this.carry, data]) : data;
    let o = 0;
    while (buf.length - o >= TS_PACKET_BYTES) {
      if (buf[o] !== SYNC) {
        this.synced = false;
        o++;
        this.droppedBytes++;
        continue;
      }
      if (!this.synced) {
        // After garbage, a sync byte counts only when the next packet's sync byte confirms it.
        if (buf.length - o <= TS_PACKET_BYTES) break;
        if (buf[o + TS_PACKET_BYTES] !== SYNC) {
          o++;
          this.droppedBytes++;
          continue;
        }
        this.synced = true;
      }
      this.onPacket(buf.slice(o, o + TS_PACKET_BYTES), nowMs, out);
      o += TS_PACKET_BYTES;
    }
    buf = buf.slice(o);
    this.carry = buf;
    return out;
  }

  /** Ends the stream: returns what is left as a last chunk. */
  flush(nowMs: number): TsPiece | undefined {
    return this.cut(this.packets.length, nowMs);
  }

  private onPacket(p: Uint8Array, nowMs: number, out: TsPiece[]): void {
    const pid = (((p[1] as number) & 0x1f) << 8) | (p[2] as number);
    const unitStart = ((p[1] as number) & 0x40) !== 0;
    const afc = ((p[3] as number) >> 4) & 3;
    const afLength = (afc & 2) !== 0 ? (p[4] as number) : -1;
    const randomAccess = afLength > 0 && ((p[5] as number) & 0x40) !== 0;
    const payloadAt = (afc & 2) !== 0 ? 5 + afLength : 4;
    const hasPayload = (afc & 1) !== 0 && payloadAt < TS_PACKET_BYTES;

    if (unitStart && hasPayload && pid === PAT_PID) this.parsePat(p.subarray(payloadAt));
    else if (unitStart && hasPayload && pid === this.pmtPid) this.parsePmt(p.subarray(payloadAt));

    const isPsi = pid === PAT_PID || pid === SDT_PID || pid === this.pmtPid;
    if (pid === this.videoPid && unitStart && hasPayload) {
      const pts = readPts(p.subarray(payloadAt));
      if (randomAccess) {
        const piece = this.cut(this.psiRunFrom ?? this.packets.length, nowMs, pts);
        if (piece !== undefined) out.push(piece);
        this.flags = FLAG_KEYFRAME;
        this.startPts = pts;
      } else if (pts !== undefined && this.startPts !== undefined && ptsDiffMs(pts, this.startPts) >= this.options.targetChunkMs) {
        const piece = this.cut(this.packets.length, nowMs, pts);
        if (piece !== undefined) out.push(piece);
        this.startPts = pts;
      }
      if (pts !== undefined) {
        if (this.lastPts !== undefined && pts > this.lastPts) this.frameTicks = pts - this.lastPts;
        this.lastPts = pts;
      }
    } else if (
      this.videoPid === undefined &&
      this.pmtPid !== undefined &&
      this.packets.length > 0 &&
      nowMs - this.startedAtMs >= this.options.targetChunkMs
    ) {
      // No video: cut on arrival time; every audio frame is a valid starting point.
      const piece = this.cut(this.packets.length, nowMs);
      if (piece !== undefined) out.push(piece);
      this.flags = FLAG_KEYFRAME;
    }
    if (this.bytes + TS_PACKET_BYTES > MAX_CHUNK_PAYLOAD_BYTES) {
      const piece = this.cut(this.packets.length, nowMs);
      if (piece !== undefined) out.push(piece);
    }
    if (this.packets.length === 0) this.startedAtMs = nowMs;
    if (isPsi) this.psiRunFrom ??= this.packets.length;
    else this.psiRunFrom = undefined;
    this.packets.push(p);
    this.bytes += TS_PACKET_BYTES;
  }

  /** Emits packets [0, at) as a chunk and keeps the rest as the start of the next one. */
  /** `endPts`: the first frame of the next chunk, which is where this one's media ends. */
  private cut(at: number, nowMs: number, endPts?: number): TsPiece | undefined {
    const done = this.packets.slice(0, at);
    const rest = this.packets.slice(at);
    const flags = this.flags;
    const startedAtMs = this.startedAtMs;
    this.startedAtMs = nowMs;
    const end = endPts ?? (this.lastPts !== undefined && this.frameTicks !== undefined ? this.lastPts + this.frameTicks : undefined);
    const mediaMs = this.startPts !== undefined && end !== undefined ? ptsDiffMs(end, this.startPts) : undefined;
    this.packets = rest;
    this.bytes = rest.length * TS_PACKET_BYTES;
    this.flags = 0;
    this.psiRunFrom = rest.length > 0 ? 0 : undefined;
    if (done.length === 0) return undefined;
    return { payload: concatBytes(done), flags, captureTimeMs: startedAtMs, mediaMs };
  }

  private parsePat(payload: Uint8Array): void {
    const s = sectionOf(payload, 0x00);
    if (s === undefined) return;
    for (let i = 8; i + 4 <= s.length - 4; i += 4) {
      const program = ((s[i] as number) << 8) | (s[i + 1] as number);
      if (program !== 0) {
        this.pmtPid = (((s[i + 2] as number) & 0x1f) << 8) | (s[i + 3] as number);
        return;
      }
    }
  }

  private parsePmt(payload: Uint8Array): void {
    const s = sectionOf(payload, 0x02);
    if (s === undefined) return;
    const programInfoLength = (((s[10] as number) & 0x0f) << 8) | (s[11] as number);
    for (let i = 12 + programInfoLength; i + 5 <= s.length - 4; ) {
      const streamType = s[i] as number;
      const pid = (((s[i + 1] as number) & 0x1f) << 8) | (s[i + 2] as number);
      const esInfoLength = (((s[i + 3] as number) & 0x0f) << 8) | (s[i + 4] as number);
      if (VIDEO_STREAM_TYPES.has(streamType)) {
        this.videoPid = pid;
        return;
      }
      i += 5 + esInfoLength;
    }
  }
}

/** The PSI section starting in a payload (after its pointer field), if it has the expected table id. */
export function sectionOf(payload: Uint8Array, tableId: number): Uint8Array | undefined {
  const pointer = payload[0];
  if (pointer === undefined) return undefined;
  const s = payload.subarray(1 + pointer);
  if (s.length < 3 || s[0] !== tableId) return undefined;
  const sectionLength = (((s[1] as number) & 0x0f) << 8) | (s[2] as number);
  return s.subarray(0, Math.min(s.length, 3 + sectionLength));
}

/** PTS of a PES header (90 kHz ticks), if present. */
export function readPts(pes: Uint8Array): number | undefined {
  if (pes.length < 14 || pes[0] !== 0 || pes[1] !== 0 || pes[2] !== 1) return undefined;
  if (((pes[7] as number) & 0x80) === 0) return undefined;
  const b = pes.subarray(9, 14);
  return (
    (((b[0] as number) >> 1) & 0x07) * 2 ** 30 +
    (((b[1] as number) << 7) | ((b[2] as number) >> 1)) * 2 ** 15 +
    (((b[3] as number) << 7) | ((b[4] as number) >> 1))
  );
}

/** Difference a - b in milliseconds, allowing for the 33-bit PTS wrap. */
function ptsDiffMs(a: number, b: number): number {
  const wrap = 2 ** 33;
  return ((((a - b) % wrap) + wrap) % wrap) / 90;
}
