// Whether the embed page relays (embedSharing): as the watch page does for a viewer who never
// chose, and never when the embedding site adds ?share=0. Pure, so no browser here.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { embedSharing } from '../../src/browser/ui/embed-page.js';

const desktop = { type: undefined, saveData: false, mobile: false };

test('an embed shares like the watch page by default', () => {
  assert.equal(embedSharing(new URLSearchParams(''), desktop).uploadEnabled, true);
  const phone = embedSharing(new URLSearchParams(''), { ...desktop, mobile: true });
  assert.equal(phone.uploadEnabled, false);
  assert.match(phone.offByDefault ?? '', /phones/);
  assert.equal(embedSharing(new URLSearchParams(''), { ...desktop, type: 'cellular' }).uploadEnabled, false);
  assert.equal(embedSharing(new URLSearchParams('share=1'), { ...desktop, saveData: true }).uploadEnabled, false);
});

test('the embedding site can turn sharing off, not on', () => {
  const off = embedSharing(new URLSearchParams('share=0'), { ...desktop, type: 'wifi' });
  assert.equal(off.uploadEnabled, false);
  assert.match(off.offByDefault ?? '', /site showing this player/);
  assert.equal(embedSharing(new URLSearchParams('share=1'), { ...desktop, mobile: true }).uploadEnabled, false);
});
