import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matchChannelName } from '../../src/api/channel-names.js';

const live = [
  { id: 'a', name: 'meshtv demo' },
  { id: 'b', name: 'News 24' },
  { id: 'c', name: 'News Night' },
  { id: 'd', name: 'Sport' },
  { id: 'd', name: 'Sport' },
];

test('a channel is found by its name in any case, or by the start of its name or of one of its words', () => {
  assert.deepEqual(matchChannelName('MESHTV DEMO', live), { kind: 'one', id: 'a' });
  assert.deepEqual(matchChannelName('demo', live), { kind: 'one', id: 'a' });
  assert.deepEqual(matchChannelName('news n', live), { kind: 'one', id: 'c' });
  assert.deepEqual(matchChannelName('night', live), { kind: 'one', id: 'c' });
  // The same channel listed by two trackers is one channel.
  assert.deepEqual(matchChannelName('sport', live), { kind: 'one', id: 'd' });
});

test('several fits are named so the user can pick one; an exact name wins over prefixes; nothing, or a blank, fits none', () => {
  const several = matchChannelName('news', live);
  assert.equal(several.kind, 'several');
  assert.deepEqual(several.kind === 'several' ? several.channels.map((c) => c.id) : [], ['b', 'c']);
  assert.deepEqual(matchChannelName('news 24', [...live, { id: 'e', name: 'News 24 HD' }]), { kind: 'one', id: 'b' });
  assert.deepEqual(matchChannelName('weather', live), { kind: 'none' });
  assert.deepEqual(matchChannelName('  ', live), { kind: 'none' });
  assert.deepEqual(matchChannelName('emo', live), { kind: 'none' });
});
