// Signed channel thumbnails for the directory: a JPEG the broadcaster cuts from its own stream,
// signed with the channel key over a domain tag, the time and the image bytes, so only the
// channel's owner can set what its card shows.

import type { SignFn, VerifyFn } from '../crypto/signatures.js';
import { signedImageBytes } from './signed-image.js';

export const MAX_THUMBNAIL_BYTES = 256 * 1024;

function thumbnailBytes(issuedAtMs: number, jpeg: Uint8Array): Uint8Array {
  return signedImageBytes('meshtv-thumbnail-v1', issuedAtMs, jpeg);
}

export function signThumbnail(issuedAtMs: number, jpeg: Uint8Array, sign: SignFn): Uint8Array {
  return sign(thumbnailBytes(issuedAtMs, jpeg));
}

export function verifyThumbnail(
  channelKey: Uint8Array,
  issuedAtMs: number,
  jpeg: Uint8Array,
  signature: Uint8Array,
  verify: VerifyFn,
): boolean {
  return verify(channelKey, thumbnailBytes(issuedAtMs, jpeg), signature);
}
