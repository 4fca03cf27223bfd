// A real Chromium page at home behind NAT: the tracker, the broadcaster and a coturn STUN/TURN
// server live on the lab's "internet" (test/helpers/nat-lab.ts), a native viewer in home 1 and
// Chromium itself, run inside home 2's network namespace, watch the channel. The broadcaster
// takes one neighbour, which home 1 has taken before the page opens, and serves no HTTP origin,
// so the page can get the stream only from home 1, over WebRTC through both NATs:
// - symmetric NATs with the tracker handing out TURN: the page reaches home 1 through the relay;
// - port-restricted cone NATs and STUN only: on reflexive addresses (hole punching).
// This is the native viewers' nat-traversal.test.ts with Chromium's own ICE agent on one side.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, type TestContext, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import type { ViewerStats } from '../../src/native/viewer.js';
import type { LinkPath } from '../../src/transport/ice.js';
import { browserSkipReason, collectPageErrors, launchBrowser } from '../helpers/browser.js';
import { createNatLab, type NatKind, type NatLab, natLabAvailable, viewerStatsIn } from '../helpers/nat-lab.js';
import { meshtv, stopAll, tempDir, waitUntil } from '../helpers/processes.js';

const unavailable = natLabAvailable() ?? browserSkipReason();
const HTTP_PORT = 8902;

after(stopAll);

interface PageFigures {
  peers: number;
  paths: Record<LinkPath, number>;
  failedConnections: number;
  shareFromPeers: number;
  mediaBytesIn: number;
  mediaBytesFromOrigin: number;
  player: { currentTime: number; playing: boolean };
}

/**
 * Keeps every RTCPeerConnection the page makes in window.__pcs (before any page script runs), so
 * that the test can read the candidates ICE selected: the runtime reports only a link's path.
 */
const RECORD_PEER_CONNECTIONS = `{
  const Native = window.RTCPeerConnection;
  const pcs = (window.__pcs = []);
  window.RTCPeerConnection = function RTCPeerConnection(...args) {
    const pc = new Native(...args);
    pcs.push(pc);
    return pc;
  };
  window.RTCPeerConnection.prototype = Native.prototype;
}`;

interface Candidate {
  candidateType?: string;
  protocol?: string;
  /** Chromium leaves it out for a remote peer-reflexive candidate (learnt from a packet, not signalled). */
  address?: string;
  port?: number;
}

/** The candidates ICE selected on every connected peer connection of the page. */
const selectedPairs = (page: Page) =>
  page.evaluate(async () => {
    const out: { local: Candidate; remote: Candidate }[] = [];
    for (const pc of (window as unknown as { __pcs: RTCPeerConnection[] }).__pcs) {
      if (pc.connectionState !== 'connected') continue;
      const byId = new Map<string, Record<string, unknown>>();
      let pairId: unknown;
      (await pc.getStats()).forEach((r: Record<string, unknown>) => {
        byId.set(r.id as string, r);
        if (r.type === 'transport') pairId = r.selectedCandidatePairId;
      });
      const pair = byId.get(pairId as string);
      if (pair === undefined) continue;
      // No named functions in here: tsx would wrap them in a __name() helper the page lacks.
      const [local, remote] = [pair.localCandidateId, pair.remoteCandidateId].map((id) => {
        const { candidateType, protocol, address, port } = (byId.get(id as string) ?? {}) as Candidate;
        return { candidateType, protocol, address, port };
      });
      out.push({ local: local as Candidate, remote: remote as Candidate });
    }
    return out;
  });

const describePair = (p: { local: Candidate; remote: Candidate }) =>
  [p.local, p.remote].map((c) => `${c.candidateType} ${c.protocol} ${c.address || '(hidden)'}:${c.port}`).join(' -> ');

const figures = (page: Page) => page.evaluate(() => (window as unknown as { meshtv: { stats(): PageFigures } }).meshtv.stats());

/**
 * Tracker and broadcaster (one neighbour, no HTTP origin) on the internet, the native viewer of
 * home 1 playing from the broadcaster; then Chromium in home 2 opens the channel's page. Returns
 * the page once it has played 3 s, and how long that took to start.
 */
async function pageBehindNat(
  t: TestContext,
  nat: NatKind,
  iceFlags: (lab: NatLab) => string[],
): Promise<{ lab: NatLab; f: PageFigures; pairs: Awaited<ReturnType<typeof selectedPairs>>; errors: string[] }> {
  const lab = await createNatLab({ nat, turn: true });
  let browser: Browser | undefined;
  // Each test tears its own lab down, so that the next one starts on an idle machine.
  t.after(async () => {
    await browser?.close();
    await stopAll();
    await lab.destroy();
  });
  const server = lab.serverAddress;
  const [home1, home2] = lab.homes;
  const tracker = meshtv(['tracker', '--host', server, '--port', '8000', ...iceFlags(lab)], {}, { netns: lab.internet });
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  const source = meshtv(
    ['broadcast', '--tracker', trackerUrl, '--max-peers', '1', '--key', path.join(tempDir('nat-browser'), 'k.key'), '--host', server],
    {},
    { netns: lab.internet },
  );
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const channelId = (uri.match(/[0-9a-f]{64}/) as RegExpMatchArray)[0];

  // Home 1 first, so that it holds the broadcaster's only neighbour slot (and, playing, is never
  // the idle neighbour the broadcaster would drop for a newcomer) before the page asks.
  meshtv(['watch', uri, '--http-port', String(HTTP_PORT)], {}, { netns: home1.ns });
  let home1Stats: ViewerStats | undefined;
  await waitUntil(
    'home 1 plays from the broadcaster',
    async () => {
      home1Stats = (await viewerStatsIn(lab, home1.ns, HTTP_PORT)) ?? home1Stats;
      return (home1Stats?.chunksPlayed ?? 0) > 4;
    },
    30_000,
  );

  browser = await launchBrowser({ netns: home2.ns });
  const page = await browser.newPage();
  await page.addInitScript(RECORD_PEER_CONNECTIONS);
  const errors = collectPageErrors(page);
  const openedAt = Date.now();
  await page.goto(`http://${server}:8000/watch/${channelId}`);
  // Waits until the page's figures pass `ok` and returns them; on timeout, says what the page had.
  let last: PageFigures | undefined;
  const wait = async (what: string, ok: (f: PageFigures) => boolean, timeoutMs: number): Promise<PageFigures> => {
    try {
      await waitUntil(
        what,
        async () => {
          last = await figures(page);
          return ok(last);
        },
        timeoutMs,
      );
      return last as PageFigures;
    } catch (e) {
      const seen = last === undefined ? 'no figures' : `${describeLinks(last)}, played to ${last.player.currentTime} s`;
      throw new Error(`${(e as Error).message}; the page had ${seen}; page errors: ${JSON.stringify(errors)}`);
    }
  };
  const startTime = (await wait('the page plays', (f) => f.player.playing, 30_000)).player.currentTime;
  const firstPlayMs = Date.now() - openedAt;
  await wait('the page plays 3 s of video', (f) => f.player.currentTime - startTime > 3, 15_000);
  const f = await figures(page);
  const pairs = await selectedPairs(page);
  t.diagnostic(`page playing ${firstPlayMs} ms after opening; ${describeLinks(f)}; ICE chose ${pairs.map(describePair).join(', ')}`);
  return { lab, f, pairs, errors };
}

describe('a browser page behind NAT', { skip: unavailable }, () => {
  test('symmetric NATs, TURN from the tracker: the page plays from home 1 through the relay', { timeout: 90_000 }, async (t) => {
    const { f, errors } = await pageBehindNat(t, 'symmetric', (l) => {
      const turn = l.turn as { stunUrl: string; address: string; port: number; username: string; credential: string };
      return ['--stun', turn.stunUrl, '--turn', `turn:${turn.username}:${turn.credential}@${turn.address}:${turn.port}`];
    });
    assert.ok(f.paths.relayed >= 1, `the page should have a relayed link: ${describeLinks(f)}`);
    // Symmetric NATs leave no other path, and every byte came from a peer that is not the
    // broadcaster, which only home 1 is: the page's stream crossed the relay.
    assert.equal(f.paths.direct + f.paths.reflexive, 0, describeLinks(f));
    assertFedByHome1(f);
    assert.deepEqual(errors, []);
  });

  test('cone NATs, STUN only: the page plays from home 1 on reflexive addresses', { timeout: 90_000 }, async (t) => {
    const { lab, f, pairs, errors } = await pageBehindNat(t, 'cone', (l) => ['--stun', (l.turn as { stunUrl: string }).stunUrl]);
    assert.ok(f.paths.reflexive >= 1, `the page should have a reflexive link: ${describeLinks(f)}`);
    // No TURN was handed out, so nothing can be relayed; no host path crosses a NAT.
    assert.equal(f.paths.direct + f.paths.relayed, 0, describeLinks(f));
    assertFedByHome1(f);
    // Hole punching shows whom the page reached: home 1's router.
    const home1 = lab.homes[0].publicAddress;
    assert.ok(
      pairs.some((p) => p.remote.address === home1),
      `a link should end at home 1's public address ${home1}: ${pairs.map(describePair).join(', ')}`,
    );
    assert.deepEqual(errors, []);
  });
});

function describeLinks(f: PageFigures): string {
  return (
    `${f.peers} peer(s), paths direct ${f.paths.direct} / reflexive ${f.paths.reflexive} / relayed ${f.paths.relayed}, ` +
    `${f.failedConnections} failed connection(s), ${f.mediaBytesIn} media bytes in, ${(f.shareFromPeers * 100).toFixed(0)}% from peers`
  );
}

/** The page played on bytes from peers other than the broadcaster (home 1), none from an HTTP origin. */
function assertFedByHome1(f: PageFigures): void {
  assert.ok(f.mediaBytesIn > 0);
  assert.equal(f.mediaBytesFromOrigin, 0, 'there is no HTTP origin to fetch from');
  assert.equal(f.shareFromPeers, 1, 'the broadcaster is full: every byte should come from home 1');
}
