// The rules a neighbour must keep (src/protocol/neighbour-rules.ts), one at a time, and the
// words their misbehaviour codes stand for in logs and simulator reports.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_PEER_CORE_CONFIG, type PeerCoreConfig } from '../../src/protocol/core-types.js';
import { MISBEHAVIOUR_GROUPS, type MisbehaviourCode, misbehaviourText } from '../../src/protocol/misbehaviour.js';
import { Neighbour } from '../../src/protocol/neighbour.js';
import { helloOverdue, idleVictim, isReplay, strike, takeRequest } from '../../src/protocol/neighbour-rules.js';

const config: PeerCoreConfig = { ...DEFAULT_PEER_CORE_CONFIG, role: 'viewer', requestRatePerS: 10, requestBurst: 3, maxStrikes: 2 };

test('a log line gives the detail; the report group stands N for it, as reports grouped before codes', () => {
  assert.equal(misbehaviourText({ code: 'bad-signature', detail: '4711' }), 'sent chunk 4711 with an invalid signature');
  assert.equal(misbehaviourText({ code: 'wrong-version', detail: '7' }), 'speaks protocol version 7');
  assert.equal(misbehaviourText({ code: 'flood-haves' }), 'floods us with HAVEs');
  for (const code of Object.keys(MISBEHAVIOUR_GROUPS) as MisbehaviourCode[]) {
    assert.equal(misbehaviourText({ code, detail: '123' }).replace(/\d+/g, 'N'), MISBEHAVIOUR_GROUPS[code], code);
  }
});

test('requests beyond the burst are a flood; the bucket refills at the rate', () => {
  const n = new Neighbour('a', 0, config.requestBurst);
  for (let i = 0; i < 3; i++) assert.equal(takeRequest(n, 0, config), undefined);
  assert.deepEqual(takeRequest(n, 0, config), { code: 'flood-requests' });
  const m = new Neighbour('b', 0, config.requestBurst);
  for (let i = 0; i < 3; i++) takeRequest(m, 0, config);
  assert.equal(takeRequest(m, 100, config), undefined, 'one request back after 100 ms at 10/s');
});

test('strikes count up to maxStrikes; a hello is due within helloTimeoutMs', () => {
  const n = new Neighbour('a', 0, config.requestBurst);
  assert.equal(strike(n, 'replays-unasked', config), undefined);
  assert.deepEqual(strike(n, 'replays-unasked', config), { code: 'replays-unasked' });
  assert.equal(helloOverdue(n, config.helloTimeoutMs, config), undefined);
  assert.deepEqual(helloOverdue(n, config.helloTimeoutMs + 1, config), { code: 'hello-timeout' });
});

test('an unasked copy is a replay unless it crossed our Cancel or is a fresh push', () => {
  const n = new Neighbour('a', 0, config.requestBurst);
  n.holds.add(10);
  assert.equal(isReplay(n, 10, false, 100), true, 'old, held, unasked');
  assert.equal(isReplay(n, 10, true, 100), false, 'asked for');
  assert.equal(isReplay(n, 95, false, 100), false, 'one of the newest from a neighbour not known to hold it');
  n.cancelled.set(10, 0);
  assert.equal(isReplay(n, 10, false, 100), false, 'taken back: its copy may still come');
  assert.equal(isReplay(n, 10, false, 100), true, 'only once');
});

test('the idle victim: longest idle past idleEvictMs, sooner for one never active', () => {
  const never = new Neighbour('never', 0, 1);
  const once = new Neighbour('once', 0, 1);
  once.lastActiveMs = 1;
  assert.equal(idleVictim([never, once], 2999, config), undefined);
  assert.equal(idleVictim([never, once], 3000, config), never);
  assert.equal(idleVictim([once], 3001, config), undefined);
  assert.equal(idleVictim([once], 10_001, config), once);
});
