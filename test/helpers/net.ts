// A virtual-time network of PeerCores for unit tests: a clock, links of constant latency that
// carry every message through the wire codec, and timers fired at pollTimeout() (the shape of
// quinn-proto's Pair::step). Cores are known by name and see their neighbours under their
// names; a name without a core is a scripted peer: the test injects what it sends, and what it
// receives is kept.

import assert from 'node:assert/strict';
import { nodeVerify } from '../../src/crypto/keys.js';
import { decodeMessage, encodeMessage, type PeerRole, type WireMessage } from '../../src/protocol/codec.js';
import type { CoreEvent, PeerCoreConfig } from '../../src/protocol/core-types.js';
import { PeerCore } from '../../src/protocol/peer-core.js';
import { seededRandom } from '../../src/protocol/random.js';

interface InFlight {
  at: number;
  from: string;
  to: string;
  frame: Uint8Array;
}

export class Net {
  now = 0;
  readonly cores = new Map<string, PeerCore>();
  readonly events = new Map<string, CoreEvent[]>();
  /** Messages received by scripted peers. */
  readonly inbox = new Map<string, { from: string; msg: WireMessage }[]>();
  /** FIFO: constant latency keeps it sorted by delivery time. */
  private readonly inFlight: InFlight[] = [];
  private readonly tasks: { at: number; run: () => void }[] = [];

  /** `channelKey`: the channel every core joins; `latencyMs`: every link's one-way delay. */
  constructor(
    readonly channelKey: Uint8Array,
    readonly latencyMs = 5,
  ) {}

  /** A core named `name` (its peer id is the name's bytes), seeded by its position for reproducible runs. */
  add(name: string, role: PeerRole, config: Partial<PeerCoreConfig> = {}): PeerCore {
    const core = new PeerCore(
      { role, ...config },
      { channelKey: this.channelKey, localPeerId: peerIdOfName(name), verify: nodeVerify, random: seededRandom(this.cores.size + 1) },
    );
    this.cores.set(name, core);
    this.events.set(name, []);
    return core;
  }

  core(name: string): PeerCore {
    const c = this.cores.get(name);
    assert.ok(c !== undefined, `no core ${name}`);
    return c;
  }

  /** Links `a` and `b` now; each core (a scripted peer has none) hears of the other. */
  connect(a: string, b: string): void {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      const c = this.cores.get(x);
      if (c === undefined) continue;
      assert.ok(c.acceptsNeighbour(), `${x} refuses another neighbour`);
      c.handleConnected(this.now, y);
      this.drain(x);
    }
  }

  /** A scripted peer sends a message (encoded now, delivered after the link latency). */
  inject(from: string, to: string, msg: WireMessage): void {
    this.inFlight.push({ at: this.now + this.latencyMs, from, to, frame: encodeMessage(msg) });
  }

  /** Runs `run` at virtual time `t` (tasks at the same time run in the order they were added). */
  at(t: number, run: () => void): void {
    let i = this.tasks.length;
    while (i > 0 && (this.tasks[i - 1] as { at: number }).at > t) i--;
    this.tasks.splice(i, 0, { at: t, run });
  }

  eventsOf(name: string): CoreEvent[] {
    return this.events.get(name) ?? [];
  }

  /** Delivers messages, runs tasks and fires core timers in time order up to `endMs`, then sets the clock there. */
  runUntil(endMs: number): void {
    for (;;) {
      let next = Number.POSITIVE_INFINITY;
      if (this.inFlight.length > 0) next = Math.min(next, (this.inFlight[0] as InFlight).at);
      if (this.tasks.length > 0) next = Math.min(next, (this.tasks[0] as { at: number }).at);
      for (const c of this.cores.values()) next = Math.min(next, c.pollTimeout() ?? Number.POSITIVE_INFINITY);
      if (next > endMs) break;
      assert.ok(next >= this.now, 'time never runs backwards');
      this.now = next;
      while (this.inFlight.length > 0 && (this.inFlight[0] as InFlight).at <= this.now) this.deliver(this.inFlight.shift() as InFlight);
      while (this.tasks.length > 0 && (this.tasks[0] as { at: number }).at <= this.now) (this.tasks.shift() as { run: () => void }).run();
      for (const [name, c] of this.cores) {
        const t = c.pollTimeout();
        if (t !== undefined && t <= this.now) {
          c.handleTimeout(this.now);
          this.drain(name);
        }
      }
    }
    this.now = endMs;
  }

  /** Puts what core `name` sent on the wire and keeps its events; call after any input the test gives a core directly. */
  drain(name: string): void {
    const c = this.core(name);
    for (let t = c.pollTransmit(); t !== undefined; t = c.pollTransmit()) {
      this.inFlight.push({ at: this.now + this.latencyMs, from: name, to: t.to, frame: encodeMessage(t.msg) });
    }
    const events = this.events.get(name) as CoreEvent[];
    for (let e = c.pollEvent(); e !== undefined; e = c.pollEvent()) events.push(e);
  }

  private deliver(m: InFlight): void {
    const msg = decodeMessage(m.frame, this.channelKey);
    const c = this.cores.get(m.to);
    if (c === undefined) {
      const box = this.inbox.get(m.to) ?? [];
      box.push({ from: m.from, msg });
      this.inbox.set(m.to, box);
      return;
    }
    c.handleMessage(this.now, m.from, msg);
    this.drain(m.to);
  }
}

/** The 16-byte peer id of a core or scripted peer named `name`: its UTF-8 bytes, zero-padded. */
export function peerIdOfName(name: string): Uint8Array {
  const peerId = new Uint8Array(16);
  peerId.set(new TextEncoder().encode(name).subarray(0, 16));
  return peerId;
}
