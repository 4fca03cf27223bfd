// What a channel key signs for an image (a thumbnail, a logo): a domain tag naming the kind, the
// time, and the image bytes, so a signature over one kind can never pass as another's.

export function signedImageBytes(tag: string, issuedAtMs: number, image: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(`${tag}\n${issuedAtMs}\n`);
  const out = new Uint8Array(head.length + image.length);
  out.set(head);
  out.set(image, head.length);
  return out;
}
