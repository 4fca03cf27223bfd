// The ids of the WebTorrent tracker protocol as meshtv fills them: swarms (info_hash), offers,
// and the signalling URL of one of our own trackers.

import { bytesToHex } from '../common/hex.js';

/** The WebSocket signalling URL of one of our HTTP trackers (its /announce). */
export function signalingUrlOf(trackerUrl: string): string {
  const u = new URL(trackerUrl);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  u.pathname = '/announce';
  return u.toString();
}

/** A 20-character string of the given bytes, as the WebTorrent protocol carries ids ("binary strings"). */
export function binaryString(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes.subarray(0, 20));
}

export function infoHashOf(channelKey: Uint8Array): string {
  return binaryString(channelKey);
}

/** 20 random printable bytes: an offer id. */
export function randomIdBytes(): Uint8Array {
  const bytes = new Uint8Array(20);
  globalThis.crypto.getRandomValues(bytes);
  // Printable ids survive every tracker's JSON handling.
  return new TextEncoder().encode(bytesToHex(bytes).slice(0, 20));
}
