// The broadcaster's HTTP origin for browsers: the live edge with a lease while the budget
// holds streams, the long poll for the next chunks, and the budget that caps what it sends.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type HttpOutput, startHttpOutput } from '../../src/native/http-output.js';
import { LEASE_IDLE_MS, LEASES_PER_ADDRESS, OriginGate } from '../../src/native/origin-gate.js';
import { decodeChunk } from '../../src/protocol/chunk.js';
import { originChunk, type TestOrigin, testOrigin } from '../helpers/origin.js';

function gate(budgetBps: number, streamBps: number): OriginGate {
  let n = 0;
  return new OriginGate({ budgetBps: () => budgetBps, streamBps: () => streamBps, newLeaseId: () => `l${++n}` });
}

describe('OriginGate', () => {
  test('leases as many streams as the budget holds with headroom, two per address, and frees idle ones', () => {
    const g = gate(3_000_000, 1_000_000);
    assert.equal(g.slots(), 2);
    assert.deepEqual(g.admit('198.51.100.1', 0), { lease: 'l1' });
    assert.deepEqual(g.admit('198.51.100.2', 0), { lease: 'l2' });
    assert.deepEqual(g.admit('198.51.100.3', 0), { refused: 'full' });
    assert.deepEqual(g.admit('198.51.100.3', LEASE_IDLE_MS + 1), { lease: 'l3' }, 'both leases went idle');
    const many = gate(100_000_000, 1_000_000);
    for (let i = 0; i < LEASES_PER_ADDRESS; i++) assert.ok('lease' in many.admit('2001:db8:1:1::1', 0));
    assert.deepEqual(many.admit('2001:db8:1:1::99', 0), { refused: 'address' }, 'one /64 is one address');
    assert.ok('lease' in many.admit('2001:db8:1:2::1', 0));
  });

  test('a lease streams at its own rate; fetches without one get only what the budget has left', () => {
    // 10 kB/s of budget (40 kB of burst), a 4 kB/s stream: two slots.
    const g = gate(80_000, 32_000);
    const lease = g.admit('198.51.100.1', 0);
    assert.ok('lease' in lease);
    // The lease's burst is 4 s at 1.25 times the stream: 20 kB, then 5 kB/s.
    assert.equal(g.charge('198.51.100.1', lease.lease, 20_000, 0), true);
    assert.equal(g.charge('198.51.100.1', lease.lease, 1000, 0), false, 'past its own allowance');
    assert.equal(g.charge('198.51.100.1', lease.lease, 5000, 1000), true, 'a second later');
    // The budget's 40 kB burst lost 25 kB to the lease and regained 10 kB in that second.
    assert.equal(g.charge('203.0.113.9', undefined, 25_000, 1000), true);
    assert.equal(g.charge('203.0.113.9', undefined, 1000, 1000), false, 'the budget is spent');
    assert.equal(g.charge('203.0.113.9', undefined, 1000, 1200), true, 'and refills at its rate');
  });
});

describe('the origin over HTTP', () => {
  let out: HttpOutput;
  let o: TestOrigin;
  before(async () => {
    // One slot (a 1 kB/s stream, 1.3 kB/s of budget), so the second page is told it is full.
    o = testOrigin([originChunk(10, true, 500), originChunk(11, false, 500), originChunk(12, false, 500)], {
      budgetBps: 10_400,
      streamBps: 8000,
    });
    out = await startHttpOutput({ host: '127.0.0.1', port: 0, stats: () => ({}), origin: o.origin });
  });
  after(() => out.close());

  test('a peerless page learns the newest keyframe and gets a lease; the next page finds it full', async () => {
    const res = await fetch(`${out.baseUrl}/edge.json`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    const edge = (await res.json()) as { seq: number; newest: number; lease: string };
    assert.deepEqual({ seq: edge.seq, newest: edge.newest }, { seq: 10, newest: 12 });
    const chunk = await fetch(`${out.baseUrl}/chunk/10?lease=${edge.lease}`);
    assert.equal(decodeChunk(new Uint8Array(await chunk.arrayBuffer())).seq, 10);
    const full = await fetch(`${out.baseUrl}/edge.json`);
    assert.equal(full.status, 503);
    assert.deepEqual(await full.json(), {
      error: 'full',
      message: 'the broadcaster is full: its HTTP origin serves as many viewers as its upload budget allows',
    });
    assert.equal((await fetch(`${out.baseUrl}/edge.json`, { method: 'HEAD' })).status, 405, 'only a GET takes a slot');
  });

  test('a request for the next chunk waits until it is cut; one far ahead is a 404 at once', async () => {
    const next = fetch(`${out.baseUrl}/chunk/13`);
    await new Promise((r) => setTimeout(r, 100));
    o.publish(originChunk(13, false, 4));
    const res = await next;
    assert.equal(res.status, 200);
    assert.equal(decodeChunk(new Uint8Array(await res.arrayBuffer())).seq, 13);
    const started = Date.now();
    assert.equal((await fetch(`${out.baseUrl}/chunk/500`)).status, 404);
    assert.ok(Date.now() - started < 1000);
  });

  test('without a lease, chunks stop at the budget with a reason', async () => {
    let status = 200;
    for (let i = 0; i < 20 && status === 200; i++) {
      const res = await fetch(`${out.baseUrl}/chunk/11`);
      status = res.status;
      if (status !== 200) assert.equal(((await res.json()) as { error: string }).error, 'full');
      else await res.arrayBuffer();
    }
    assert.equal(status, 503, 'the budget (1.3 kB/s, 5.2 kB of burst) ran out');
    assert.ok(o.sentBytes <= 5200 + 1300, `sent ${o.sentBytes} bytes`);
  });
});
