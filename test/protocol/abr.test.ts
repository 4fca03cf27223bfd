// Adaptive bitrate as pure functions: the controller's choice of rendition from fetch rate,
// missed media and slack, and the output switch that moves between renditions at a keyframe
// both share, without losing or repeating media.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AbrController, type AbrInput, MAX_SWITCH_WAIT_MS, RenditionSwitch, type SwitchOutput } from '../../src/protocol/abr.js';
import { type Chunk, FLAG_KEYFRAME } from '../../src/protocol/chunk.js';

const LADDER = [
  { name: '240p', bitrateBps: 400_000 },
  { name: '360p', bitrateBps: 900_000 },
  { name: '720p', bitrateBps: 2_600_000 },
];

function input(nowMs: number, fetchBps: number | undefined, more: Partial<AbrInput> = {}): AbrInput {
  return { nowMs, fetchBps, fetchSamples: 20, slackMs: 2000, short: false, ...more };
}

describe('AbrController', () => {
  test('goes up one step at a time, only after a calm spell with fast fetches', () => {
    const abr = new AbrController(LADDER, 0, 0);
    assert.equal(abr.decide(input(5000, 10_000_000)).index, 0, 'not before the calm spell');
    assert.deepEqual(abr.decide(input(15_000, 10_000_000)), { index: 1, reason: 'fast fetches' });
    abr.switched(1, 15_000);
    assert.equal(abr.decide(input(20_000, 10_000_000)).index, 1, 'calm spell restarts at the switch');
    assert.equal(abr.decide(input(30_000, 10_000_000)).index, 2);
    assert.equal(abr.decide(input(30_000, 3_000_000)).index, 1, '3 Mbit/s does not carry 2.6 Mbit/s with margin');
    assert.equal(abr.decide(input(30_000, 10_000_000, { slackMs: 200 })).index, 1, 'not with a thin buffer');
  });

  test('with nothing fetched (every chunk came pushed in time), it tries the next rendition after the calm spell', () => {
    const abr = new AbrController(LADDER, 0, 0);
    const pushedOnly = (nowMs: number, more: Partial<AbrInput> = {}) => input(nowMs, undefined, { fetchSamples: 0, ...more });
    assert.equal(abr.decide(pushedOnly(5000)).index, 0, 'not before the calm spell');
    assert.equal(abr.decide(pushedOnly(15_000, { slackMs: 200 })).index, 0, 'not with a thin buffer');
    assert.equal(abr.decide(pushedOnly(15_000)).index, 1);
    abr.abandoned(15_000);
    assert.equal(abr.decide(pushedOnly(30_000)).index, 0, 'a failed try holds it off');
    assert.equal(abr.decide(pushedOnly(45_000)).index, 1);
  });

  test('missed media sends it down, to a rendition the fetch rate carries', () => {
    const abr = new AbrController(LADDER, 2, 0);
    assert.equal(abr.decide(input(1000, 500_000, { short: true })).index, 2, 'the new rendition settles first');
    assert.deepEqual(abr.decide(input(4000, 500_000, { short: true })), { index: 0, reason: 'missed media' });
    assert.deepEqual(abr.decide(input(4000, 5_000_000, { short: true })), { index: 1, reason: 'missed media' });
  });

  test('slow fetches send it down once enough samples are in', () => {
    const abr = new AbrController(LADDER, 2, 0);
    assert.equal(abr.decide(input(4000, 2_000_000, { fetchSamples: 3 })).index, 2);
    assert.deepEqual(abr.decide(input(4000, 2_000_000)), { index: 1, reason: 'slow fetches' });
    assert.equal(abr.decide(input(4000, 2_900_000)).index, 2, 'fast enough for the current one');
  });

  test('a rendition that fails soon after going up is held off, longer each time', () => {
    const abr = new AbrController(LADDER, 0, 0);
    abr.switched(1, 15_000);
    abr.switched(0, 20_000);
    assert.equal(abr.decide(input(40_000, 10_000_000)).index, 0, 'held off 30 s');
    assert.equal(abr.decide(input(50_000, 10_000_000)).index, 1);
    abr.switched(1, 50_000);
    abr.switched(0, 55_000);
    assert.equal(abr.decide(input(100_000, 10_000_000)).index, 0, 'held off 60 s now');
    assert.equal(abr.decide(input(115_000, 10_000_000)).index, 1);
    assert.deepEqual(abr.switches, { up: 2, down: 2 });
  });
});

/** Two renditions cut from one encode: 250 ms chunks, keyframe every 4th, seqs apart. */
function chunk(rendition: number, i: number, captureSkewMs = 0): Chunk {
  return {
    channelKey: new Uint8Array(32).fill(rendition),
    seq: rendition * 1000 + i,
    captureTimeMs: i * 250 + captureSkewMs,
    flags: i % 4 === 0 ? FLAG_KEYFRAME : 0,
    payload: Uint8Array.of(rendition, i),
    signature: new Uint8Array(64),
  };
}

function played(out: SwitchOutput[]): string[] {
  return out.map((o) =>
    o.type === 'play' ? `${o.chunk.payload[0]}:${o.chunk.payload[1]}` : o.type === 'switched' ? `switch ${o.from}>${o.to}` : 'abandoned',
  );
}

describe('RenditionSwitch', () => {
  test('moves to a target running ahead at the next shared keyframe, without a gap', () => {
    const sw = new RenditionSwitch(0);
    const out: SwitchOutput[] = [];
    for (let i = 0; i < 6; i++) out.push(...sw.played(0, chunk(0, i)));
    sw.setTarget(1);
    // The target started at keyframe 8 and is two chunks ahead of the output.
    for (let i = 8; i < 10; i++) out.push(...sw.played(1, chunk(1, i, 4)));
    for (let i = 6; i < 9; i++) out.push(...sw.played(0, chunk(0, i)));
    out.push(...sw.played(1, chunk(1, 10, 4)));
    assert.deepEqual(played(out), ['0:0', '0:1', '0:2', '0:3', '0:4', '0:5', '0:6', '0:7', 'switch 0>1', '1:8', '1:9', '1:10']);
    assert.equal(sw.current, 1);
    assert.deepEqual(sw.played(0, chunk(0, 9)), [], 'the old rendition no longer plays');
  });

  test('waits for a target running behind, then switches', () => {
    const sw = new RenditionSwitch(0);
    const out: SwitchOutput[] = [];
    for (let i = 0; i < 4; i++) out.push(...sw.played(0, chunk(0, i)));
    sw.setTarget(1);
    out.push(...sw.played(1, chunk(1, 0)));
    for (let i = 4; i < 7; i++) out.push(...sw.played(0, chunk(0, i)));
    out.push(...sw.played(1, chunk(1, 1)));
    // Output reaches keyframe 4 while the target is at chunk 1: the output waits there.
    assert.deepEqual(played(out), ['0:0', '0:1', '0:2', '0:3']);
    out.length = 0;
    for (let i = 2; i < 6; i++) out.push(...sw.played(1, chunk(1, i)));
    assert.deepEqual(played(out), ['switch 0>1', '1:4', '1:5']);
  });

  test('a target that gave the awaited keyframe up is switched to at its next one, and nothing is lost', () => {
    const sw = new RenditionSwitch(0);
    const out: SwitchOutput[] = [];
    for (let i = 0; i < 4; i++) out.push(...sw.played(0, chunk(0, i)));
    sw.setTarget(1);
    out.push(...sw.played(1, chunk(1, 2)));
    for (let i = 4; i < 7; i++) out.push(...sw.played(0, chunk(0, i)));
    // The target skipped keyframe 4 and goes on at 5..8: the output resumes, and switches at 8.
    for (let i = 5; i < 9; i++) out.push(...sw.played(1, chunk(1, i)));
    for (let i = 7; i < 9; i++) out.push(...sw.played(0, chunk(0, i)));
    assert.deepEqual(played(out), ['0:0', '0:1', '0:2', '0:3', '0:4', '0:5', '0:6', '0:7', 'switch 0>1', '1:8']);
  });

  test('gives up on a target that stays behind, and loses nothing', () => {
    const sw = new RenditionSwitch(0);
    const out: SwitchOutput[] = [];
    for (let i = 0; i < 4; i++) out.push(...sw.played(0, chunk(0, i)));
    sw.setTarget(1);
    sw.played(1, chunk(1, 0));
    const last = 4 + MAX_SWITCH_WAIT_MS / 250 + 1;
    for (let i = 4; i <= last; i++) out.push(...sw.played(0, chunk(0, i)));
    const names = played(out);
    assert.equal(names[4], 'abandoned');
    assert.deepEqual(
      names.filter((n) => n !== 'abandoned'),
      Array.from({ length: last + 1 }, (_, i) => `0:${i}`),
    );
    assert.equal(sw.target, undefined);
    assert.equal(sw.current, 0);
  });

  test('a cancelled switch releases the chunks held while waiting', () => {
    const sw = new RenditionSwitch(0);
    for (let i = 0; i < 4; i++) sw.played(0, chunk(0, i));
    sw.setTarget(1);
    sw.played(1, chunk(1, 0));
    for (let i = 4; i < 6; i++) sw.played(0, chunk(0, i));
    assert.deepEqual(played(sw.setTarget(undefined)), ['0:4', '0:5']);
  });
});
