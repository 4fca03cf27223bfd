// Reads just enough of an MPEG-TS chunk to time it: the video PID from the PAT/PMT a keyframe
// chunk starts with, and the presentation timestamps of that PID's PES headers.
// Pure functions over bytes that start on a packet boundary; no state, no I/O.
import { readPts, sectionOf } from './ts-chunker.js';

const TS_PACKET_BYTES = 188;
const SYNC = 0x47;
const PAT_PID = 0;
/** H.264, HEVC, MPEG-2 and MPEG-1 video stream types (ISO 13818-1 table 2-34 and amendments). */
const VIDEO_STREAM_TYPES = new Set([0x1b, 0x24, 0x02, 0x01]);
/** PTS are 33-bit counters of a 90 kHz clock. */
export const PTS_WRAP = 2 ** 33;

interface Packet {
  pid: number;
  unitStart: boolean;
  payload: Uint8Array | undefined;
}

function* packets(data: Uint8Array): Generator<Packet> {
  for (let o = 0; o + TS_PACKET_BYTES <= data.length; o += TS_PACKET_BYTES) {
    if (data[o] !== SYNC) continue;
    const p = data.subarray(o, o + TS_PACKET_BYTES);
    const pid = (((p[1] as number) & 0x1f) << 8) | (p[2] as number);
    const afc = ((p[3] as number) >> 4) & 3;
    const payloadAt = (afc & 2) !== 0 ? 5 + (p[4] as number) : 4;
    const payload = (afc & 1) !== 0 && payloadAt < TS_PACKET_BYTES ? p.subarray(payloadAt) : undefined;
    yield { pid, unitStart: ((p[1] as number) & 0x40) !== 0, payload };
  }
}

/** The PID of the first video stream announced by a PAT/PMT inside `data`, if any. */
export function findVideoPid(data: Uint8Array): number | undefined {
  let pmtPid: number | undefined;
  for (const p of packets(data)) {
    if (!p.unitStart || p.payload === undefined) continue;
    if (p.pid === PAT_PID) {
      const s = sectionOf(p.payload, 0x00);
      for (let i = 8; s !== undefined && i + 4 <= s.length - 4; i += 4) {
        const program = ((s[i] as number) << 8) | (s[i + 1] as number);
        if (program !== 0) {
          pmtPid = (((s[i + 2] as number) & 0x1f) << 8) | (s[i + 3] as number);
          break;
        }
      }
    } else if (p.pid === pmtPid) {
      const s = sectionOf(p.payload, 0x02);
      if (s === undefined || s.length < 12) continue;
      const programInfoLength = (((s[10] as number) & 0x0f) << 8) | (s[11] as number);
      for (let i = 12 + programInfoLength; i + 5 <= s.length - 4; ) {
        const pid = (((s[i + 1] as number) & 0x1f) << 8) | (s[i + 2] as number);
        if (VIDEO_STREAM_TYPES.has(s[i] as number)) return pid;
        i += 5 + ((((s[i + 3] as number) & 0x0f) << 8) | (s[i + 4] as number));
      }
    }
  }
  return undefined;
}

/** PTS (90 kHz ticks) of every PES header of `pid` in `data`, in stream order. */
export function ptsOf(data: Uint8Array, pid: number): number[] {
  const out: number[] = [];
  for (const p of packets(data)) {
    if (p.pid !== pid || !p.unitStart || p.payload === undefined) continue;
    const pts = readPts(p.payload);
    if (pts !== undefined) out.push(pts);
  }
  return out;
}

/** a - b in 90 kHz ticks, taking the shorter way round the 33-bit wrap (so the result may be negative). */
export function ptsDelta(a: number, b: number): number {
  const d = (((a - b) % PTS_WRAP) + PTS_WRAP) % PTS_WRAP;
  return d >= PTS_WRAP / 2 ? d - PTS_WRAP : d;
}
