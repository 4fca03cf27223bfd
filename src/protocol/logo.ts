// A channel's logo: a small PNG or JPEG chosen by the broadcaster, signed with the channel key
// over its own domain tag, the time and the image bytes (like thumbnails, which cannot be
// replayed as a logo nor the other way round). The type is read from the magic bytes only.

import type { SignFn, VerifyFn } from '../crypto/signatures.js';
import { signedImageBytes } from './signed-image.js';

export const MAX_LOGO_BYTES = 64 * 1024;

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

/** The image's MIME type from its first bytes; undefined when it is neither PNG nor JPEG. */
export function logoType(image: Uint8Array): 'image/png' | 'image/jpeg' | undefined {
  const starts = (magic: number[]) => image.length > magic.length && magic.every((b, i) => image[i] === b);
  if (starts(PNG_MAGIC)) return 'image/png';
  if (starts(JPEG_MAGIC)) return 'image/jpeg';
  return undefined;
}

function logoBytes(issuedAtMs: number, image: Uint8Array): Uint8Array {
  return signedImageBytes('meshtv-logo-v1', issuedAtMs, image);
}

export function signLogo(issuedAtMs: number, image: Uint8Array, sign: SignFn): Uint8Array {
  return sign(logoBytes(issuedAtMs, image));
}

export function verifyLogo(
  channelKey: Uint8Array,
  issuedAtMs: number,
  image: Uint8Array,
  signature: Uint8Array,
  verify: VerifyFn,
): boolean {
  return verify(channelKey, logoBytes(issuedAtMs, image), signature);
}
