// Where a newcomer starts: the newest keyframe its neighbours agree on, never a lone claim over
// an agreed one, nothing past what the window would fetch, and its own newest keyframe when it
// is at least as new.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadOrCreateKey } from '../../src/node/keys.js';
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

test('with no two agreeing, the newest claim is taken', () => {
  assert.equal(chooseStartSeq(undefined, [neighbour('a', 20), neighbour('b', 50)], window()), 50);
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
