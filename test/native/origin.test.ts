// The broadcaster's HTTP origin for browsers: the live edge with a lease while the budget
// holds streams, the long poll for the next chunks, and the budget that caps what it sends.

import assert from 'node:assert/strict';
import net from 'node:net';
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
    assert.deepEqual(g.admit('198.51.100.3', LEASE_IDLE_MS + 1), { refused: 'address' }, 'never every slot to one address');
    const many = gate(100_000_000, 1_000_000);
    for (let i = 0; i < LEASES_PER_ADDRESS; i++) assert.ok('lease' in many.admit('2001:db8:1:1::1', 0));
    assert.deepEqual(many.admit('2001:db8:1:1::99', 0), { refused: 'address' }, 'one /64 is one address');
    assert.ok('lease' in many.admit('2001:db8:1:2::1', 0));
  });

  test('a lease is kept by streaming: one that draws a trickle is freed after a window', () => {
    const g = gate(3_000_000, 1_000_000);
    const squatter = g.admit('198.51.100.1', 0);
    const viewer = g.admit('198.51.100.2', 0);
    assert.ok('lease' in squatter && 'lease' in viewer);
    // 125 kB/s is the stream: the viewer draws it, the squatter a small fetch every 5 s.
    for (let t = 0; t <= LEASE_IDLE_MS * 2; t += 1000) {
      assert.ok(g.charge('198.51.100.2', viewer.lease, 125_000, t));
      if (t % 5000 === 0) g.charge('198.51.100.1', squatter.lease, 100, t);
    }
    assert.ok('lease' in g.admit('198.51.100.3', LEASE_IDLE_MS * 2), "the squatter's slot went to a newcomer");
    assert.ok(g.holds('198.51.100.2', viewer.lease, LEASE_IDLE_MS * 2), 'the viewer keeps its own');
    assert.ok(!g.holds('198.51.100.1', squatter.lease, LEASE_IDLE_MS * 2));
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
  let lease: string;
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
    lease = edge.lease;
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

  test('a leased request for the next chunk waits until it is cut; one far ahead, or without a lease, is a 404 at once', async () => {
    const started = Date.now();
    assert.equal((await fetch(`${out.baseUrl}/chunk/13`)).status, 404, 'only a leased stream may wait');
    assert.equal((await fetch(`${out.baseUrl}/chunk/500?lease=${lease}`)).status, 404);
    assert.ok(Date.now() - started < 1000);
    const next = fetch(`${out.baseUrl}/chunk/13?lease=${lease}`);
    await new Promise((r) => setTimeout(r, 100));
    o.publish(originChunk(13, false, 4));
    const res = await next;
    assert.equal(res.status, 200);
    assert.equal(decodeChunk(new Uint8Array(await res.arrayBuffer())).seq, 13);
  });

  test('a request target that is no URL gets an answer, and the server stays up', async () => {
    for (const target of ['http://[/../../../chunk/1', 'http://x:99999/../../../chunk/11?lease=x']) {
      const status = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(out.port, '127.0.0.1', () => socket.end(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`));
        let got = '';
        socket.on('data', (d) => {
          got += d.toString('latin1');
        });
        socket.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
        socket.on('error', reject);
      });
      assert.match(status, /^HTTP\/1\.1 [24]\d\d /, target);
    }
    assert.equal((await fetch(`${out.baseUrl}/chunk/11`)).status, 200);
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
