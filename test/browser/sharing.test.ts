// The pure parts of the watch page's sharing and channel states: who uploads by default, what the
// tracker's channel answer means, which Media Source flavour the player takes. Checked without a
// browser; watch-anywhere.test.ts shows them in Chromium.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CHANNEL_ENDED_ERROR, CHANNEL_UNKNOWN_ERROR } from '../../src/api/tracker-api.js';
import { mediaSourceFlavour } from '../../src/browser/mse-sink.js';
import { channelBlocker, channelStateOf } from '../../src/browser/ui/channel-state.js';
import { uploadDefault } from '../../src/browser/ui/sharing.js';

test('upload is off by default on mobile data, with data saving, and on a phone whose connection is unknown', () => {
  const on = (type: string | undefined, saveData: boolean, mobile: boolean) => uploadDefault({ type, saveData, mobile }).enabled;
  assert.equal(on('cellular', false, false), false);
  assert.equal(on('bluetooth', false, true), false, 'tethered to a phone');
  assert.equal(on('wifi', true, false), false, 'the user asked to save data');
  assert.equal(on(undefined, false, true), false, 'a phone that does not say (iOS Safari, Firefox)');
  assert.equal(on('unknown', false, true), false);
  assert.equal(on('wifi', false, true), true, 'a phone on Wi-Fi');
  assert.equal(on('ethernet', false, false), true);
  assert.equal(on(undefined, false, false), true, 'a computer that does not say (desktop Chromium)');
  assert.match(uploadDefault({ type: 'cellular', saveData: false, mobile: true }).why ?? '', /mobile data/);
  assert.equal(uploadDefault({ type: 'wifi', saveData: false, mobile: true }).why, undefined);
});

test("the tracker's channel answer tells live, unknown and ended apart, and nothing else", () => {
  assert.equal(channelStateOf(200, {}), 'live');
  assert.equal(channelStateOf(404, { error: CHANNEL_UNKNOWN_ERROR }), 'unknown');
  assert.equal(channelStateOf(404, { error: CHANNEL_ENDED_ERROR }), 'ended');
  assert.equal(channelStateOf(404, { error: 'not found' }), undefined, 'an older tracker');
  assert.equal(channelStateOf(404, undefined), undefined);
  assert.equal(channelStateOf(429, { error: 'too many requests' }), undefined);
});

test('the player is replaced by a card only while the channel is not live and nothing plays', () => {
  assert.equal(channelBlocker('unknown', false)?.title, 'No such channel');
  assert.equal(channelBlocker('ended', false)?.title, 'This broadcast has ended');
  assert.equal(channelBlocker('ended', true), undefined, 'the last seconds still play');
  assert.equal(channelBlocker('live', false), undefined);
  assert.equal(channelBlocker(undefined, false), undefined);
});

test('MediaSource is preferred, ManagedMediaSource taken when it is the only one', () => {
  class Plain {
    readonly managed = false;
    static isTypeSupported = () => true;
  }
  class Managed {
    readonly managed = true;
    static isTypeSupported = () => false;
  }
  assert.equal(mediaSourceFlavour({ MediaSource: Plain, ManagedMediaSource: Managed })?.name, 'MediaSource');
  const managed = mediaSourceFlavour({ ManagedMediaSource: Managed });
  assert.equal(managed?.name, 'ManagedMediaSource');
  assert.equal(managed?.isTypeSupported('video/mp4'), false);
  assert.ok(managed?.create() instanceof Managed);
  assert.equal(mediaSourceFlavour({}), undefined);
});
