// Wire codec: every message type survives encode/decode, and every malformed frame is refused
// with a RemoteProtocolError (the sender's fault), never another exception.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CHANNEL_ID_BYTES, type Chunk, MAX_CHUNK_PAYLOAD_BYTES, SIGNATURE_BYTES } from '../../src/protocol/chunk.js';
import {
  bufferMapSeqs,
  decodeMessage,
  encodeMessage,
  LINK_PROOF_BYTES,
  MAX_BUFFER_MAP_CHUNKS,
  MAX_FRAME_BYTES,
  MsgType,
  makeBufferMap,
  messageBodyBytes,
  NO_SEQ,
  NODE_KEY_BYTES,
  PEER_ID_BYTES,
  PROTOCOL_VERSION,
  type WireMessage,
} from '../../src/protocol/codec.js';
import { RemoteProtocolError } from '../../src/protocol/errors.js';
import { type RandomFn, seededRandom } from '../../src/protocol/random.js';

/** A chunk's header as a link carries it: version, seq, capture time, flags, payload length (no channel key). */
const CHUNK_HEADER_BYTES = 1 + 4 + 8 + 1 + 4;
const PAYLOAD_LENGTH_AT = 1 + 1 + 4 + 8 + 1;
const HELLO_BYTES = 1 + 1 + CHANNEL_ID_BYTES + PEER_ID_BYTES + 1;

function bytes(n: number, random: RandomFn): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random() * 256);
  return out;
}

function sampleChunk(random: RandomFn, payloadBytes = 1000): Chunk {
  return {
    channelKey: bytes(CHANNEL_ID_BYTES, random),
    seq: 123456,
    captureTimeMs: 1_700_000_000_123.5,
    flags: 0x03,
    payload: bytes(payloadBytes, random),
    signature: bytes(SIGNATURE_BYTES, random),
  };
}

/** The channel of the link a message travels on: a chunk's own, else any. */
function linkKey(msg: WireMessage): Uint8Array {
  return msg.type === MsgType.ChunkData ? msg.chunk.channelKey : new Uint8Array(CHANNEL_ID_BYTES);
}

function roundTrip(msg: WireMessage): WireMessage {
  return decodeMessage(encodeMessage(msg), linkKey(msg));
}

function assertRefused(frame: Uint8Array, pattern?: RegExp): void {
  assert.throws(
    () => decodeMessage(frame, new Uint8Array(CHANNEL_ID_BYTES)),
    (err: unknown) => {
      assert.ok(err instanceof RemoteProtocolError, `expected RemoteProtocolError, got ${String(err)}`);
      if (pattern !== undefined) assert.match(err.message, pattern);
      return true;
    },
  );
}

function withLength(frame: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  out.set(frame.subarray(0, Math.min(n, frame.length)));
  return out;
}

function setUint32(frame: Uint8Array, at: number, value: number): Uint8Array {
  const out = frame.slice();
  new DataView(out.buffer).setUint32(at, value);
  return out;
}

describe('codec round trip', () => {
  const random = seededRandom(1);

  test('hello, every role', () => {
    for (const [role, relays] of [
      ['source', true],
      ['viewer', true],
      ['viewer', false],
    ] as const) {
      const msg: WireMessage = {
        type: MsgType.Hello,
        version: PROTOCOL_VERSION,
        channelKey: bytes(CHANNEL_ID_BYTES, random),
        peerId: bytes(PEER_ID_BYTES, random),
        role,
        relays,
      };
      const frame = encodeMessage(msg);
      assert.equal(frame.length, HELLO_BYTES);
      assert.deepEqual(decodeMessage(frame, linkKey(msg)), msg);
    }
  });

  test('auth: a node key and its proof', () => {
    const msg: WireMessage = { type: MsgType.Auth, nodeKey: bytes(NODE_KEY_BYTES, random), proof: bytes(LINK_PROOF_BYTES, random) };
    const frame = encodeMessage(msg);
    assert.equal(frame.length, 1 + NODE_KEY_BYTES + LINK_PROOF_BYTES);
    assert.equal(messageBodyBytes(msg), frame.length);
    assert.deepEqual(decodeMessage(frame, linkKey(msg)), msg);
  });

  test('buffer map, including empty, odd-sized and maximal maps', () => {
    for (const count of [0, 1, 7, 8, 13, 240, MAX_BUFFER_MAP_CHUNKS]) {
      const held = new Set<number>();
      for (let i = 0; i < count; i++) if (random() < 0.5) held.add(1000 + i);
      const msg = makeBufferMap(1000, count, (s) => held.has(s), count > 0 ? 1000 + count - 1 : NO_SEQ);
      const back = roundTrip(msg);
      assert.deepEqual(back, msg);
      assert.equal(back.type, MsgType.BufferMap);
      if (back.type === MsgType.BufferMap)
        assert.deepEqual(
          bufferMapSeqs(back),
          [...held].sort((a, b) => a - b),
        );
    }
  });

  test('buffer map at the top of the sequence space', () => {
    const msg = makeBufferMap(0xffffffff - 9, 10, (s) => s % 2 === 0, NO_SEQ);
    assert.deepEqual(roundTrip(msg), msg);
  });

  test('have, request, reject, busy, cancel, each number in full', () => {
    for (const seq of [0, 1, 0x7fffffff, 0xffffffff]) {
      const have: WireMessage = { type: MsgType.Have, seq, flags: 0xff };
      const request: WireMessage = { type: MsgType.Request, seq };
      const reject: WireMessage = { type: MsgType.Reject, seq };
      const cancel: WireMessage = { type: MsgType.Cancel, seq };
      assert.deepEqual(roundTrip(have), have);
      assert.deepEqual(roundTrip(request), request);
      assert.deepEqual(roundTrip(reject), reject);
      assert.deepEqual(roundTrip(cancel), cancel);
      for (const retryMs of [0, 152, 2040]) {
        const busy: WireMessage = { type: MsgType.Busy, seq, retryMs };
        assert.deepEqual(roundTrip(busy), busy);
        assert.equal(encodeMessage(busy).length, 6);
      }
      assert.equal(encodeMessage(have).length, 6);
      assert.equal(encodeMessage(request).length, 5);
      assert.equal(encodeMessage(reject).length, 5);
      assert.equal(encodeMessage(cancel).length, 5);
    }
  });

  test('on a link, a number close to the previous one goes as a 1- or 2-byte step, and both ends follow it', () => {
    const tx = { seq: 0 };
    const rx = { seq: 0 };
    const key = new Uint8Array(CHANNEL_ID_BYTES);
    // [message, its length on the wire]: the first is far from 0, so it goes in full.
    const sent: [WireMessage, number][] = [
      [{ type: MsgType.Have, seq: 5_000_000, flags: 0 }, 6],
      [{ type: MsgType.Have, seq: 5_000_001, flags: 0 }, 2],
      [{ type: MsgType.Have, seq: 5_000_008, flags: 1 }, 3],
      [{ type: MsgType.Request, seq: 4_999_990 }, 2],
      [{ type: MsgType.Busy, seq: 4_999_990, retryMs: 64 }, 3],
      [{ type: MsgType.Request, seq: 4_999_990 + 127 }, 2],
      [{ type: MsgType.Request, seq: 4_999_990 }, 2],
      [{ type: MsgType.Request, seq: 4_999_990 - 128 }, 2],
      [{ type: MsgType.Request, seq: 4_999_990 }, 3],
      [{ type: MsgType.Have, seq: 4_999_990 - 129, flags: 1 }, 4],
      [{ type: MsgType.Cancel, seq: 4_999_990 + 0x7fff - 129 }, 3],
      [{ type: MsgType.Reject, seq: 4_999_990 - 0x8000 - 129 + 0x7fff }, 3],
      [{ type: MsgType.Request, seq: 4_999_990 - 130 - 0x8000 }, 3],
      [{ type: MsgType.Request, seq: 4_999_990 - 131 }, 3],
      [{ type: MsgType.Request, seq: 4_999_990 - 131 + 0x8000 }, 5],
      [{ type: MsgType.Have, seq: 0xffffffff, flags: 0 }, 6],
      [{ type: MsgType.Have, seq: 0xfffffffe, flags: 0 }, 2],
    ];
    for (const [msg, length] of sent) {
      const frame = encodeMessage(msg, tx);
      assert.equal(frame.length, length, `${JSON.stringify(msg)}`);
      assert.deepEqual(decodeMessage(frame, key, rx), msg);
      assert.equal(rx.seq, tx.seq);
    }
    // Messages without a number leave the step's base alone.
    const before = tx.seq;
    decodeMessage(
      encodeMessage(
        makeBufferMap(10, 8, () => true, NO_SEQ),
        tx,
      ),
      key,
      rx,
    );
    assert.equal(tx.seq, before);
    assert.equal(rx.seq, before);
  });

  test('a short step from the wrong base decodes to another number: both ends must see every message', () => {
    const frame = encodeMessage({ type: MsgType.Request, seq: 1010 }, { seq: 1000 });
    assert.equal(frame.length, 2);
    assert.deepEqual(decodeMessage(frame, new Uint8Array(CHANNEL_ID_BYTES), { seq: 2000 }), { type: MsgType.Request, seq: 2010 });
  });

  test('a step to a number below 0 or above 2^32 - 1 is refused', () => {
    const down = encodeMessage({ type: MsgType.Request, seq: 0 }, { seq: 5 });
    assertRefused(down, /out of range/);
    assert.throws(() => decodeMessage(down, new Uint8Array(CHANNEL_ID_BYTES), { seq: 4 }), /out of range/);
    const up = encodeMessage({ type: MsgType.Have, seq: 0xffffffff, flags: 0 }, { seq: 0xfffffff0 });
    assert.throws(() => decodeMessage(up, new Uint8Array(CHANNEL_ID_BYTES), { seq: 0xfffffff1 }), RemoteProtocolError);
  });

  test('a busy hint is rounded up to 8 ms and clamped to one byte', () => {
    const hint = (retryMs: number) => {
      const back = roundTrip({ type: MsgType.Busy, seq: 1, retryMs });
      return back.type === MsgType.Busy ? back.retryMs : undefined;
    };
    assert.equal(hint(1), 8);
    assert.equal(hint(300), 304);
    assert.equal(hint(2000), 2000);
    assert.equal(hint(70_000), 255 * 8);
    assert.equal(hint(-5), 0);
  });

  test('chunk data, with ordinary, empty and maximal payloads', () => {
    for (const size of [1000, 0, MAX_CHUNK_PAYLOAD_BYTES]) {
      const msg: WireMessage = { type: MsgType.ChunkData, chunk: sampleChunk(random, size) };
      const frame = encodeMessage(msg);
      assert.equal(frame.length, 1 + CHUNK_HEADER_BYTES + size + SIGNATURE_BYTES);
      assert.ok(frame.length <= MAX_FRAME_BYTES);
      assert.deepEqual(decodeMessage(frame, linkKey(msg)), msg);
    }
  });

  test('a chunk captured at time 0 and at the largest seq', () => {
    const msg: WireMessage = { type: MsgType.ChunkData, chunk: { ...sampleChunk(random, 10), seq: 0xffffffff, captureTimeMs: 0 } };
    assert.deepEqual(roundTrip(msg), msg);
  });

  test('decoded messages do not alias the frame buffer', () => {
    const msg: WireMessage = { type: MsgType.ChunkData, chunk: sampleChunk(random, 16) };
    const frame = encodeMessage(msg);
    const back = decodeMessage(frame, linkKey(msg));
    frame.fill(0);
    assert.deepEqual(back, msg);
  });

  test('encoding a chunk with a channel key of the wrong size is local misuse (RangeError)', () => {
    const chunk = { ...sampleChunk(random, 4), channelKey: new Uint8Array(31) };
    assert.throws(() => encodeMessage({ type: MsgType.ChunkData, chunk }), RangeError);
  });
});

describe('codec refuses malformed frames with RemoteProtocolError', () => {
  const random = seededRandom(2);
  const hello = encodeMessage({
    type: MsgType.Hello,
    version: PROTOCOL_VERSION,
    channelKey: bytes(CHANNEL_ID_BYTES, random),
    peerId: bytes(PEER_ID_BYTES, random),
    role: 'viewer',
  });
  const chunkFrame = encodeMessage({ type: MsgType.ChunkData, chunk: sampleChunk(random, 100) });

  test('empty frame', () => {
    assertRefused(new Uint8Array(0), /empty/);
  });

  test('frame above MAX_FRAME_BYTES', () => {
    const frame = new Uint8Array(MAX_FRAME_BYTES + 1);
    frame[0] = MsgType.Have;
    assertRefused(frame, /exceeds/);
  });

  test('unknown type bytes', () => {
    for (const type of [0, 10, 0x7f, 0x80, 0xff]) assertRefused(Uint8Array.of(type, 0, 0, 0, 1, 0), /unknown message type/);
    assertRefused(Uint8Array.of(MsgType.Auth, 0, 0, 0, 1, 0), /auth message has 6 bytes, expected 97/);
    // The short-number and flags bits on a type that has no number, or no flags.
    for (const type of [0x81, 0xc2, 0x85, 0xe6, 0xa7, 0x23, 0x43, 0x44, 0x64, 0x28])
      assertRefused(Uint8Array.of(type, 0, 0, 0, 1, 0), /unknown message type/);
  });

  test('an urgent request carries its flag in the type byte, in every form, at no extra byte', () => {
    const key = new Uint8Array(CHANNEL_ID_BYTES);
    const tx = { seq: 1000 };
    const rx = { seq: 1000 };
    for (const [seq, length] of [
      [1001, 2],
      [1001 + 0x100, 3],
      [9_000_000, 5],
    ] as const) {
      const urgent: WireMessage = { type: MsgType.Request, seq, urgent: true };
      const frame = encodeMessage(urgent, tx);
      assert.equal(frame.length, length);
      assert.equal((frame[0] as number) & 0x20, 0x20);
      assert.deepEqual(decodeMessage(frame, key, rx), urgent);
    }
    // Not urgent: no flag, and the decoded message has no urgent field.
    assert.deepEqual(roundTrip({ type: MsgType.Request, seq: 7, urgent: false }), { type: MsgType.Request, seq: 7 });
    assert.deepEqual(decodeMessage(Uint8Array.of(0x20 | MsgType.Request, 0, 0, 0, 7), key), {
      type: MsgType.Request,
      seq: 7,
      urgent: true,
    });
  });

  test('a have sent as a step whose flags byte is 0 is refused: that have has no flags byte', () => {
    assertRefused(Uint8Array.of(0xe0 | MsgType.Have, 1, 0), /flags/);
    assertRefused(Uint8Array.of(0xa0 | MsgType.Have, 1, 0, 0), /flags/);
  });

  test('a 2-byte step that fits in one byte is refused: one encoding per message', () => {
    assertRefused(Uint8Array.of(0x80 | MsgType.Request, 0, 5), /shortest form/);
    assertRefused(Uint8Array.of(0x80 | MsgType.Request, 0xff, 0x80), /shortest form/);
    assert.deepEqual(decodeMessage(Uint8Array.of(0x80 | MsgType.Request, 0, 0x80), new Uint8Array(CHANNEL_ID_BYTES)), {
      type: MsgType.Request,
      seq: 128,
    });
  });

  test('hello of the wrong length', () => {
    assertRefused(withLength(hello, HELLO_BYTES - 1), /hello/);
    assertRefused(withLength(hello, HELLO_BYTES + 1), /hello/);
    assertRefused(Uint8Array.of(MsgType.Hello), /hello/);
  });

  test('hello with a role byte other than 0, 1 or 2', () => {
    for (const role of [3, 0x80, 0xff]) {
      const bad = hello.slice();
      bad[HELLO_BYTES - 1] = role;
      assertRefused(bad, /role/);
    }
  });

  test('have, request, reject, busy and cancel of the wrong length', () => {
    for (const [type, n] of [
      [MsgType.Have, 6],
      [MsgType.Request, 5],
      [MsgType.Reject, 5],
      [MsgType.Busy, 6],
      [MsgType.Cancel, 5],
      [0x80 | MsgType.Have, 3],
      [0xa0 | MsgType.Have, 4],
      [0xc0 | MsgType.Have, 2],
      [0xe0 | MsgType.Have, 3],
      [0x80 | MsgType.Request, 3],
      [0xc0 | MsgType.Request, 2],
      [0x80 | MsgType.Reject, 3],
      [0xc0 | MsgType.Reject, 2],
      [0x80 | MsgType.Busy, 4],
      [0xc0 | MsgType.Busy, 3],
      [0x80 | MsgType.Cancel, 3],
      [0xc0 | MsgType.Cancel, 2],
    ] as const) {
      for (const len of [1, n - 1, n + 1, n + 100]) {
        const frame = new Uint8Array(len);
        frame[0] = type;
        assertRefused(frame, /expected/);
      }
    }
  });

  test('buffer map shorter than its header', () => {
    for (const len of [1, 5, 10]) {
      const frame = new Uint8Array(len);
      frame[0] = MsgType.BufferMap;
      assertRefused(frame, /too short/);
    }
  });

  test('buffer map whose bitfield does not match its count', () => {
    const good = encodeMessage(makeBufferMap(5, 20, () => true, NO_SEQ));
    assert.equal(good.length, 11 + 3);
    assertRefused(withLength(good, good.length - 1), /buffer map/);
    assertRefused(withLength(good, good.length + 1), /buffer map/);
  });

  test('buffer map with a count above MAX_BUFFER_MAP_CHUNKS', () => {
    const count = MAX_BUFFER_MAP_CHUNKS + 1;
    // The bitfield length matches the count, so only the count limit can refuse it.
    const frame = new Uint8Array(11 + Math.ceil(count / 8));
    frame[0] = MsgType.BufferMap;
    new DataView(frame.buffer).setUint16(5, count);
    assertRefused(frame, /exceeds/);
    new DataView(frame.buffer).setUint16(5, 0xffff);
    assertRefused(frame, /exceeds/);
  });

  test('chunk shorter than header plus signature', () => {
    assertRefused(Uint8Array.of(MsgType.ChunkData), /too short/);
    assertRefused(withLength(chunkFrame, 1 + CHUNK_HEADER_BYTES + SIGNATURE_BYTES - 1), /too short/);
  });

  test('chunk whose payload length does not match the frame', () => {
    assertRefused(setUint32(chunkFrame, PAYLOAD_LENGTH_AT, 101), /does not match/);
    assertRefused(setUint32(chunkFrame, PAYLOAD_LENGTH_AT, 99), /does not match/);
    assertRefused(setUint32(chunkFrame, PAYLOAD_LENGTH_AT, 0), /does not match/);
    assertRefused(withLength(chunkFrame, chunkFrame.length - 1), /does not match/);
    assertRefused(withLength(chunkFrame, chunkFrame.length + 1), /does not match/);
  });

  test('chunk declaring a payload above MAX_CHUNK_PAYLOAD_BYTES is refused on the declared length', () => {
    // A short frame claiming 4 GiB: the limit must be checked before the length match and
    // before anything is sized from the declared length.
    assertRefused(setUint32(chunkFrame, PAYLOAD_LENGTH_AT, 0xffffffff), /exceeds the maximum/);
    assertRefused(setUint32(chunkFrame, PAYLOAD_LENGTH_AT, MAX_CHUNK_PAYLOAD_BYTES + 1), /exceeds the maximum/);
    // Consistent frame one byte over the limit (still under MAX_FRAME_BYTES).
    const size = MAX_CHUNK_PAYLOAD_BYTES + 1;
    const frame = new Uint8Array(1 + CHUNK_HEADER_BYTES + size + SIGNATURE_BYTES);
    frame.set(chunkFrame.subarray(0, 1 + CHUNK_HEADER_BYTES));
    new DataView(frame.buffer).setUint32(PAYLOAD_LENGTH_AT, size);
    assert.ok(frame.length <= MAX_FRAME_BYTES);
    assertRefused(frame, /exceeds the maximum/);
  });

  test('chunk with an unknown format version', () => {
    for (const version of [0, 2, 0xff]) {
      const bad = chunkFrame.slice();
      bad[1] = version;
      assertRefused(bad, /version/);
    }
  });

  test('chunk with a capture time that is not a valid time', () => {
    const at = 1 + 1 + 4;
    for (const t of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1]) {
      const bad = chunkFrame.slice();
      new DataView(bad.buffer).setFloat64(at, t);
      assertRefused(bad, /capture time/);
    }
  });
});

describe('codec under random and mutated input', () => {
  test('20,000 frames: each is either refused with RemoteProtocolError or re-encodes to the same bytes', () => {
    const random = seededRandom(0xc0dec);
    const pickInt = (n: number) => Math.floor(random() * n);
    const valid: Uint8Array[] = [
      encodeMessage({
        type: MsgType.Hello,
        version: PROTOCOL_VERSION,
        channelKey: bytes(CHANNEL_ID_BYTES, random),
        peerId: bytes(PEER_ID_BYTES, random),
        role: 'source',
      }),
      encodeMessage(makeBufferMap(77, 45, (s) => s % 3 === 0, 78)),
      encodeMessage(makeBufferMap(0, 0, () => false, NO_SEQ)),
      encodeMessage({ type: MsgType.Have, seq: 9, flags: 1 }),
      encodeMessage({ type: MsgType.Request, seq: 10 }),
      encodeMessage({ type: MsgType.Reject, seq: 11 }),
      encodeMessage({ type: MsgType.Busy, seq: 12, retryMs: 80 }),
      encodeMessage({ type: MsgType.Cancel, seq: 13 }),
      // As steps from 0, as on a link that has just opened.
      encodeMessage({ type: MsgType.Have, seq: 9, flags: 1 }, { seq: 0 }),
      encodeMessage({ type: MsgType.Have, seq: 10, flags: 0 }, { seq: 0 }),
      encodeMessage({ type: MsgType.Request, seq: 10 }, { seq: 0 }),
      encodeMessage({ type: MsgType.Busy, seq: 12, retryMs: 80 }, { seq: 0 }),
      encodeMessage({ type: MsgType.Cancel, seq: 13 }, { seq: 0 }),
      encodeMessage({ type: MsgType.Request, seq: 300 }, { seq: 0 }),
      encodeMessage({ type: MsgType.Have, seq: 300, flags: 1 }, { seq: 0 }),
      encodeMessage({ type: MsgType.ChunkData, chunk: sampleChunk(random, 40) }),
      encodeMessage({ type: MsgType.ChunkData, chunk: sampleChunk(random, 0) }),
    ];
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      let frame: Uint8Array;
      const base = valid[pickInt(valid.length)] as Uint8Array;
      switch (pickInt(5)) {
        case 0: {
          // Random bytes behind a plausible type byte.
          frame = bytes(pickInt(200), random);
          if (frame.length > 0) frame[0] = pickInt(8);
          break;
        }
        case 1: {
          // A few random byte changes of a valid frame.
          frame = base.slice();
          for (let k = 1 + pickInt(3); k > 0; k--) frame[pickInt(frame.length)] = pickInt(256);
          break;
        }
        case 2:
          // Truncated or extended.
          frame = withLength(base, pickInt(base.length + 20));
          break;
        case 3: {
          // A 32-bit field overwritten with an extreme value.
          frame = base.slice();
          if (frame.length >= 5) {
            const at = pickInt(frame.length - 3);
            new DataView(frame.buffer).setUint32(at, [0, 0xffffffff, 0x7fffffff, MAX_CHUNK_PAYLOAD_BYTES + 1][pickInt(4)] as number);
          }
          break;
        }
        default:
          frame = base.slice();
          break;
      }
      let msg: WireMessage;
      try {
        msg = decodeMessage(frame, new Uint8Array(CHANNEL_ID_BYTES));
      } catch (err) {
        if (!(err instanceof RemoteProtocolError)) assert.fail(`frame ${Buffer.from(frame).toString('hex')} threw ${String(err)}`);
        refused++;
        continue;
      }
      accepted++;
      // A frame with a short number re-encodes as a step from the same base; one in full, in full.
      const short = ((frame[0] as number) & 0x80) !== 0;
      assert.deepEqual(
        encodeMessage(msg, short ? { seq: 0 } : undefined),
        frame,
        `frame ${Buffer.from(frame).toString('hex')} did not re-encode to itself`,
      );
    }
    assert.ok(accepted > 1000, `only ${accepted} frames accepted`);
    assert.ok(refused > 1000, `only ${refused} frames refused`);
  });
});
