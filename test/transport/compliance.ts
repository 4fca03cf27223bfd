// What every peer transport (src/transport/transport.ts) must do, as one suite each transport's
// test file runs on its own links: frames arrive whole and in order, up to the largest frame;
// a larger one ends the link at the receiver; a close from either end reaches both, once; a
// link that closed takes send() and close() without throwing or delivering; each end names the
// other; bufferedBytes counts what the network has not taken yet. CoreDriver relies on each.
// Frames sent just before close() should arrive too; a transport known to lose them says why.

import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { MAX_FRAME_BYTES } from '../../src/protocol/codec.js';
import type { LinkPath } from '../../src/transport/ice.js';
import type { Connection } from '../../src/transport/transport.js';
import { waitUntil } from '../helpers/processes.js';

export interface OpenedLink {
  /** The end that dialled (or offered), and the end that accepted; neither has handlers yet. */
  dialer: Connection;
  acceptor: Connection;
  /** Each end's node key, when the transport proves keys itself (a binding of kind 'key'). */
  keys?: { dialer: Uint8Array; acceptor: Uint8Array };
  /** The address each end must report for the other; the port the dialer reached, when it has one. */
  dialerSees: { address: string; port?: number };
  acceptorSees: { address: string };
}

export interface TransportUnderTest {
  /** A new link between two ends on loopback. */
  open(): Promise<OpenedLink>;
  /** The path both ends must report once known; undefined: any of direct, reflexive, relayed. */
  path?: LinkPath;
  /**
   * Why frames sent just before close() may be lost, for a transport known to lose them: the
   * test still runs, reported as to do rather than failed.
   */
  losesFramesAtClose?: string;
  /** Releases what the links needed (servers, threads), after the suite. */
  done?(): Promise<void> | void;
}

/** What reached one end. */
interface Received {
  frames: Uint8Array[];
  closes: (Error | undefined)[];
}

function receive(conn: Connection): Received {
  const r: Received = { frames: [], closes: [] };
  conn.setHandlers({ onFrame: (f) => r.frames.push(f), onClose: (err) => r.closes.push(err) });
  return r;
}

/** A frame whose bytes say which it is (its index), so a reordered, cut or merged frame shows. */
function frame(index: number, length: number): Uint8Array {
  const f = new Uint8Array(length);
  for (let i = 0; i < length; i++) f[i] = (index * 31 + i) & 0xff;
  if (length >= 4) new DataView(f.buffer).setUint32(0, index);
  return f;
}

/** Sizes around the framing's edges: one-byte length prefixes, 16 KiB data channel fragments, and large. */
const SIZES = [1, 2, 5, 127, 128, 129, 1000, 16_383, 16_384, 16_385, 32_769, 65_536, 300_000];

/** Many small frames (the HAVEs that are most traffic) between the edge sizes. */
function mixedFrames(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < 400; i++) out.push(frame(i, i % 20 === 0 ? (SIZES[(i / 20) % SIZES.length] as number) : 3 + (i % 7)));
  return out;
}

function assertSameFrames(got: Uint8Array[], sent: Uint8Array[], what: string): void {
  assert.equal(got.length, sent.length, `${what}: ${got.length} frames of ${sent.length}`);
  for (let i = 0; i < sent.length; i++) {
    assert.ok(Buffer.from(got[i] as Uint8Array).equals(sent[i] as Uint8Array), `${what}: frame ${i} differs`);
  }
}

const settle = () => new Promise((r) => setTimeout(r, 200));

export function transportCompliance(name: string, transport: TransportUnderTest): void {
  describe(`${name}: transport compliance`, { timeout: 60_000 }, () => {
    const open: Connection[] = [];
    const link = async () => {
      const l = await transport.open();
      open.push(l.dialer, l.acceptor);
      return l;
    };
    after(async () => {
      for (const c of open) c.close();
      await transport.done?.();
    });

    test('frames arrive whole and in order, both ways at once', async () => {
      const { dialer, acceptor } = await link();
      const atDialer = receive(dialer);
      const atAcceptor = receive(acceptor);
      const frames = mixedFrames();
      for (const f of frames) {
        dialer.send(f);
        acceptor.send(f);
      }
      await waitUntil('every frame arrives', () => atAcceptor.frames.length >= frames.length && atDialer.frames.length >= frames.length);
      await settle();
      assertSameFrames(atAcceptor.frames, frames, 'dialer to acceptor');
      assertSameFrames(atDialer.frames, frames, 'acceptor to dialer');
      assert.deepEqual([...atDialer.closes, ...atAcceptor.closes], []);
    });

    test('a frame of the largest size arrives whole; one byte more ends the link at the receiver, with an error', async () => {
      const { dialer, acceptor } = await link();
      const atDialer = receive(dialer);
      const atAcceptor = receive(acceptor);
      const largest = frame(1, MAX_FRAME_BYTES);
      dialer.send(largest);
      await waitUntil('the largest frame arrives', () => atAcceptor.frames.length === 1);
      assertSameFrames(atAcceptor.frames, [largest], 'largest frame');
      dialer.send(frame(2, MAX_FRAME_BYTES + 1));
      await waitUntil('both ends are told the link ended', () => atAcceptor.closes.length > 0 && atDialer.closes.length > 0);
      assert.equal(atAcceptor.frames.length, 1, 'the oversized frame was delivered');
      assert.ok(atAcceptor.closes[0] instanceof Error, 'the receiver closed without saying why');
    });

    test('frames that arrive before the receiver sets its handlers are handed over then, in order', async () => {
      const { dialer, acceptor } = await link();
      receive(dialer);
      const frames = [frame(0, 10), frame(1, 20_000), frame(2, 3)];
      for (const f of frames) dialer.send(f);
      await settle();
      const atAcceptor = receive(acceptor);
      await waitUntil('the early frames are handed over', () => atAcceptor.frames.length >= frames.length);
      assertSameFrames(atAcceptor.frames, frames, 'early frames');
    });

    for (const closer of ['dialer', 'acceptor'] as const) {
      test(`close() by the ${closer}: both ends are told once, without an error`, async () => {
        const l = await link();
        const ends = { dialer: receive(l.dialer), acceptor: receive(l.acceptor) };
        l[closer].close();
        await waitUntil('both ends are told', () => ends.dialer.closes.length > 0 && ends.acceptor.closes.length > 0);
        await settle();
        assert.deepEqual(ends[closer].closes, [undefined]);
        assert.deepEqual(ends[closer === 'dialer' ? 'acceptor' : 'dialer'].closes, [undefined]);
      });

      test(`close() by the ${closer}: frames sent just before it arrive`, { todo: transport.losesFramesAtClose }, async () => {
        const l = await link();
        const ends = { dialer: receive(l.dialer), acceptor: receive(l.acceptor) };
        const other = closer === 'dialer' ? 'acceptor' : 'dialer';
        const frames = [frame(0, 5), frame(1, 40_000), frame(2, 5)];
        for (const f of frames) l[closer].send(f);
        l[closer].close();
        await waitUntil('the other end is told', () => ends[other].closes.length > 0);
        await settle();
        assertSameFrames(ends[other].frames, frames, 'frames sent before close()');
      });
    }

    test('after a close, send() and close() on either end neither throw nor deliver anything', async () => {
      const { dialer, acceptor } = await link();
      const atDialer = receive(dialer);
      const atAcceptor = receive(acceptor);
      acceptor.close();
      await waitUntil('the dialer is told', () => atDialer.closes.length > 0);
      for (const c of [dialer, acceptor]) {
        c.send(frame(9, 100));
        c.close();
        c.send(frame(9, 100));
      }
      await settle();
      assert.deepEqual(atDialer.frames, []);
      assert.deepEqual(atAcceptor.frames, []);
      assert.equal(atDialer.closes.length, 1);
      assert.equal(atAcceptor.closes.length, 1);
      assert.equal(dialer.bufferedBytes, 0);
    });

    test('each end names the other: address, port, the binding that authenticates it, and the path', async () => {
      const l = await link();
      receive(l.dialer);
      receive(l.acceptor);
      assert.equal(l.dialer.remoteAddress, l.dialerSees.address);
      assert.equal(l.acceptor.remoteAddress, l.acceptorSees.address);
      if (l.dialerSees.port !== undefined) assert.equal(l.dialer.remotePort, l.dialerSees.port);
      for (const c of [l.dialer, l.acceptor]) assert.ok(Number.isInteger(c.remotePort) && c.remotePort >= 0 && c.remotePort <= 65535);
      const [d, a] = [l.dialer.binding, l.acceptor.binding];
      assert.ok(d !== undefined && a !== undefined, 'an end that cannot say who is at the other is refused by the driver');
      assert.equal(d.kind, a.kind);
      if (d.kind === 'key' && a.kind === 'key') {
        assert.ok(l.keys !== undefined, 'a transport that proves keys says which');
        assert.deepEqual(d.remoteKey, l.keys.acceptor);
        assert.deepEqual(a.remoteKey, l.keys.dialer);
      } else if (d.kind === 'fingerprints' && a.kind === 'fingerprints') {
        // Each end's own fingerprint is the other's remote one, and the two differ.
        assert.deepEqual({ local: d.local, remote: d.remote }, { local: a.remote, remote: a.local });
        assert.notEqual(d.local, d.remote);
      }
      await waitUntil('both ends know their path', () => l.dialer.path !== undefined && l.acceptor.path !== undefined);
      for (const c of [l.dialer, l.acceptor]) {
        assert.ok(['direct', 'reflexive', 'relayed'].includes(c.path as string), `path ${c.path}`);
        if (transport.path !== undefined) assert.equal(c.path, transport.path);
      }
    });

    test('bufferedBytes: none at rest, what send() took and the network did not yet, and none again once sent', async () => {
      const { dialer, acceptor } = await link();
      receive(dialer);
      const atAcceptor = receive(acceptor);
      assert.equal(dialer.bufferedBytes, 0);
      const frames = Array.from({ length: 8 }, (_, i) => frame(i, 512 * 1024));
      for (const f of frames) dialer.send(f);
      assert.ok(dialer.bufferedBytes >= 512 * 1024, `${dialer.bufferedBytes} bytes buffered right after sending 4 MB`);
      assert.ok(dialer.bufferedBytes <= 4 * 1024 * 1024 + 64 * 1024, `${dialer.bufferedBytes} bytes buffered, more than was sent`);
      await waitUntil('every frame arrives', () => atAcceptor.frames.length === frames.length);
      await waitUntil('nothing is left buffered', () => dialer.bufferedBytes === 0);
      assertSameFrames(atAcceptor.frames, frames, 'large frames');
    });
  });
}
