// Where a newcomer starts: the newest keyframe two of its neighbours have reached, never a lone
// claim, nothing past what the window would fetch, and its own newest keyframe when it is at
// least as new.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey } from '../../src/crypto/keys.js';
import { ChunkWindow } from '../../src/protocol/chunk-window.js';
import { NO_SEQ } from '../../src/protocol/codec.js';
import { Neighbour } from '../../src/protocol/neighbour.js';
import { chooseStartSeq, offeredBy } from '../../src/protocol/start-choice.js';
import { testChunk } from '../helpers/cores.js';
import { tempDir } from '../helpers/processes.js';

const { key } = loadOrCreateKey(`${tempDir('start-choice')}/k.key`);

/** A neighbour past its hello that holds `held` and says its newest keyframe is `newestKey`. */
function neighbour(id: string, newestKey: number, held: number[] = []): Neighbour {
  const n = new Neighbour(id, 0, 10);
  n.role = 'viewer';
  n.newestKeySeq = newestKey;
  for (const seq of held) n.holds.add(seq);
  return n;
}

function window(held: number[] = []): ChunkWindow {
  const w = new ChunkWindow({ windowChunks: 600, maxAheadChunks: 100 });
  for (const seq of held) w.add(testChunk(key, seq, seq * 100, 10, 10));
  return w;
}

test('two neighbours agreeing beat a newer lone claim', () => {
  const ns = [neighbour('a', 40), neighbour('b', 40), neighbour('c', 90), neighbour('d', 30)];
  assert.equal(chooseStartSeq(undefined, ns, window()), 40);
});

test('with no two agreeing, the newest that two have reached is taken; a lone neighbour is believed', () => {
  assert.equal(chooseStartSeq(undefined, [neighbour('a', 20), neighbour('b', 50)], window()), 20);
  assert.equal(chooseStartSeq(undefined, [neighbour('a', 50)], window()), 50);
});

test('colluding peers agreeing on an old keyframe do not beat honest neighbours a second apart', () => {
  const ns = [neighbour('x', 10), neighbour('y', 10), neighbour('z', 10), neighbour('a', 40), neighbour('b', 50)];
  assert.equal(chooseStartSeq(undefined, ns, window()), 40);
});

test('claims past the reach of the chunks held, behind the window, or from neighbours without a hello or leaving are ignored', () => {
  const w = window([1000]); // keyframe 1000: reach ends at 1100, the window starts at 401
  const far = [neighbour('a', 5000), neighbour('b', 5000)];
  const stale = [neighbour('c', 300), neighbour('d', 300)];
  const silent = neighbour('e', 1050);
  silent.role = undefined;
  const leaving = neighbour('f', 1060);
  leaving.closing = true;
  assert.equal(chooseStartSeq(undefined, [...far, ...stale, silent, leaving], w), 1000);
  assert.equal(chooseStartSeq(undefined, [...far, ...stale, silent, leaving], window()), 5000);
});

test('its own newest keyframe wins when at least as new as the neighbours', () => {
  const ns = [neighbour('a', 60), neighbour('b', 60)];
  assert.equal(chooseStartSeq(undefined, ns, window([60])), 60);
  assert.equal(chooseStartSeq(undefined, ns, window([70])), 70);
  assert.equal(chooseStartSeq(undefined, ns, window([50])), 60);
});

test('a chosen start is kept while held or offered, and moved when nobody offers it', () => {
  const a = neighbour('a', 80, [40]);
  const b = neighbour('b', 80);
  assert.equal(chooseStartSeq(40, [a, b], window()), undefined, 'offered: kept');
  assert.equal(chooseStartSeq(40, [a, b], window([40])), undefined, 'held: kept');
  a.holds.delete(40);
  assert.equal(chooseStartSeq(40, [a, b], window()), 80, 'offered by nobody: moved');
  assert.equal(chooseStartSeq(80, [a, b], window()), undefined, 'already there');
  assert.equal(chooseStartSeq(undefined, [], window()), undefined, 'nothing known');
});

test('offeredBy ignores neighbours being dropped', () => {
  const a = neighbour('a', NO_SEQ, [7]);
  assert.equal(offeredBy([a], 7), true);
  assert.equal(offeredBy([a], 8), false);
  a.closing = true;
  assert.equal(offeredBy([a], 7), false);
});

test('a start that is no keyframe, or one still missing when a newer keyframe is held, is left', () => {
  // testChunk makes every 10th chunk a keyframe: 25 is none.
  const liars = [neighbour('x', 25, [25]), neighbour('y', 25, [25])];
  assert.equal(chooseStartSeq(25, liars, window([25, 26])), undefined, 'no keyframe known: nothing better');
  assert.equal(chooseStartSeq(25, [...liars, neighbour('a', 30, [30])], window([25, 30])), 30, 'held and no keyframe');
  // Colluders offer keyframe 10 and never send it; keyframe 50 came from elsewhere.
  const colluders = [neighbour('x', 10, [10]), neighbour('y', 10, [10]), neighbour('z', 10, [10])];
  assert.equal(chooseStartSeq(10, colluders, window([50, 51])), 50);
  assert.equal(chooseStartSeq(10, colluders, window([10, 50])), undefined, 'a held start is kept');
});
