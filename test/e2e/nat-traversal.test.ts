// Viewers at home behind NAT, in real network namespaces (test/helpers/nat-lab.ts): the tracker,
// the broadcaster and a coturn STUN/TURN server live on the "internet"; one viewer in each home.
// The broadcaster takes one neighbour, so the second home can only get the stream from the first
// home's viewer, over WebRTC through both NATs:
// - port-restricted cone NATs and STUN only: the homes meet on reflexive addresses (hole punching);
// - symmetric NATs with the tracker handing out TURN credentials it mints from coturn's shared
//   secret: they meet through the relay;
// - symmetric NATs without TURN: no path exists, and the viewer says so (stats and a warning).

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  createNatLab,
  type NatKind,
  type NatLab,
  natLabAvailable,
  TURN_SECRET,
  type TurnAuth,
  viewerStatsIn,
  waitForViewerStats,
} from '../helpers/nat-lab.js';
import { meshtv, type Proc, stopAll, tempDir } from '../helpers/processes.js';

const unavailable = natLabAvailable();

after(stopAll);

interface Scene {
  lab: NatLab;
  /** Starts the viewer of home i (0 or 1). */
  watch(i: number): Proc;
  httpPort: number;
}

/** Tracker and broadcaster (one neighbour at most) on the internet. */
async function setUp(nat: NatKind, iceFlags: (lab: NatLab) => string[], turnAuth: TurnAuth = 'static'): Promise<Scene> {
  const lab = await createNatLab({ nat, turn: true, turnAuth });
  const server = lab.serverAddress;
  const tracker = meshtv(['tracker', '--host', server, '--port', '8000', ...iceFlags(lab)], {}, { netns: lab.internet });
  const trackerUrl = (await tracker.waitFor(/tracker listening on (\S+)/))[1] as string;
  const source = meshtv(
    ['broadcast', '--tracker', trackerUrl, '--max-peers', '1', '--key', path.join(tempDir('nat'), 'k.key'), '--host', server],
    {},
    { netns: lab.internet },
  );
  const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
  const httpPort = 8902;
  const watch = (i: number) => meshtv(['watch', uri, '--http-port', String(httpPort)], {}, { netns: (lab.homes[i] as { ns: string }).ns });
  return { lab, watch, httpPort };
}

describe('viewers behind NAT', { skip: unavailable }, () => {
  const labs: NatLab[] = [];
  after(async () => {
    await stopAll();
    await Promise.all(labs.map((l) => l.destroy()));
  });

  test('cone NATs, STUN only: the homes connect on reflexive addresses and both play', { timeout: 90_000 }, async (t) => {
    const { lab, watch, httpPort } = await setUp('cone', (l) => ['--stun', (l.turn as { stunUrl: string }).stunUrl]);
    labs.push(lab);
    const [home1, home2] = lab.homes;
    watch(0);
    const first = await waitForViewerStats(lab, home1.ns, httpPort, 'home 1 plays', (s) => s.chunksPlayed > 4, 30_000);
    assert.ok(first.mediaBytesInFromSource > 0, 'home 1 should be fed by the broadcaster');
    const startedAt = Date.now();
    watch(1);
    const second = await waitForViewerStats(
      lab,
      home2.ns,
      httpPort,
      'home 2 plays through home 1',
      (s) => s.chunksPlayed > 8 && s.neighbours.some((n) => n.path === 'reflexive'),
      45_000,
    );
    const link = second.neighbours.find((n) => n.kind === 'webrtc');
    t.diagnostic(
      `home 2 playing ${Date.now() - startedAt} ms after home 1 did; its links: ${second.neighbours.map((n) => `${n.kind}/${n.path}`).join(', ')}`,
    );
    assert.equal(link?.path, 'reflexive');
    assert.equal(second.mediaBytesInFromSource, 0, 'home 2 should get everything from home 1: the broadcaster is full');
    assert.ok(second.continuity > 0.9, `continuity ${second.continuity}`);
    await stopAll();
  });

  test('symmetric NATs, TURN from the tracker: the homes connect through the relay', { timeout: 90_000 }, async (t) => {
    // The tracker shares coturn's secret and mints each peer time-limited credentials.
    const { lab, watch, httpPort } = await setUp(
      'symmetric',
      (l) => ['--stun', (l.turn as { stunUrl: string }).stunUrl, '--turn', (l.turn as { url: string }).url, '--turn-secret', TURN_SECRET],
      'secret',
    );
    labs.push(lab);
    const [home1, home2] = lab.homes;
    watch(0);
    await waitForViewerStats(lab, home1.ns, httpPort, 'home 1 plays', (s) => s.chunksPlayed > 4, 30_000);
    const startedAt = Date.now();
    watch(1);
    const second = await waitForViewerStats(
      lab,
      home2.ns,
      httpPort,
      'home 2 plays through the relay',
      (s) => s.chunksPlayed > 8 && s.neighbours.some((n) => n.path === 'relayed'),
      45_000,
    );
    t.diagnostic(
      `home 2 playing ${Date.now() - startedAt} ms after home 1 did; its links: ${second.neighbours.map((n) => `${n.kind}/${n.path}`).join(', ')}`,
    );
    assert.equal(second.mediaBytesInFromSource, 0);
    assert.ok(second.continuity > 0.9, `continuity ${second.continuity}`);
    await stopAll();
  });

  test('symmetric NATs without TURN: home 2 cannot connect, and says so', { timeout: 120_000 }, async (t) => {
    const { lab, watch, httpPort } = await setUp('symmetric', (l) => ['--stun', (l.turn as { stunUrl: string }).stunUrl]);
    labs.push(lab);
    const [home1, home2] = lab.homes;
    watch(0);
    await waitForViewerStats(lab, home1.ns, httpPort, 'home 1 plays', (s) => s.chunksPlayed > 4, 30_000);
    const startedAt = Date.now();
    const viewer2 = watch(1);
    const second = await waitForViewerStats(
      lab,
      home2.ns,
      httpPort,
      'home 2 reports failed connections',
      (s) => (s.webrtc?.failed ?? 0) > 0,
      75_000,
    );
    t.diagnostic(`home 2 reported ${second.webrtc?.failed} failed WebRTC connections after ${Date.now() - startedAt} ms`);
    assert.equal(second.chunksPlayed, 0, 'home 2 cannot have played: there is no path to anyone with the stream');
    assert.ok((second.webrtc?.answersReceived ?? 0) + (second.webrtc?.offersAnswered ?? 0) > 0, 'signalling itself worked');
    await viewer2.waitFor(/no TURN server is configured/, 'stderr', 5000);
  });
});

describe('trackers going away, across the lab’s internet', { skip: unavailable }, () => {
  let lab: NatLab | undefined;
  after(async () => {
    await stopAll();
    await lab?.destroy();
  });

  test('one of two trackers dies and nobody stops; with both gone a newcomer joins through the DHT', { timeout: 90_000 }, async (t) => {
    lab = await createNatLab({ nat: 'cone', turn: false });
    const server = lab.serverAddress;
    const [home1, home2] = lab.homes;
    // A DHT bootstrap node on the internet stands in for the public routers.
    const bootstrap = lab.spawn(lab.internet, process.execPath, [
      '-e',
      `import('bittorrent-dht').then(({ default: DHT }) => { const d = new DHT({ bootstrap: false }); d.listen(6881, '${server}', () => console.log('ready')); })`,
    ]);
    await new Promise<void>((resolve, reject) => {
      bootstrap.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      bootstrap.on('exit', (code) => reject(new Error(`the DHT bootstrap node exited (${code})`)));
    });
    const dht = ['--dht-bootstrap', `${server}:6881`];
    const trackers = [8000, 8001].map((port) =>
      meshtv(['tracker', '--host', server, '--port', String(port)], {}, { netns: lab?.internet }),
    );
    const urls = await Promise.all(trackers.map(async (p) => (await p.waitFor(/tracker listening on (\S+)/))[1] as string));
    const source = meshtv(
      ['broadcast', ...urls.flatMap((u) => ['--tracker', u]), '--key', path.join(tempDir('nat-dht'), 'k.key'), '--host', server, ...dht],
      {},
      { netns: lab.internet },
    );
    const uri = (await source.waitFor(/^(meshtv:\/\/\S+)$/m))[1] as string;
    meshtv(['watch', uri, '--http-port', '8902', ...dht], {}, { netns: home1.ns });
    await waitForViewerStats(lab, home1.ns, 8902, 'home 1 plays', (s) => s.chunksPlayed > 4, 30_000);

    await (trackers[0] as Proc).stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 3000));
    const afterOne = await waitForViewerStats(lab, home1.ns, 8902, 'home 1 still plays', (s) => s.chunksPlayed > 20, 20_000);
    assert.equal(afterOne.chunksSkipped, 0, 'home 1 skipped chunks when a tracker died');

    await (trackers[1] as Proc).stop('SIGKILL');
    const startedAt = Date.now();
    const newcomer = meshtv(['watch', uri, '--http-port', '8902', ...dht], {}, { netns: home2.ns });
    const s = await waitForViewerStats(lab, home2.ns, 8902, 'the newcomer plays through the DHT', (x) => x.chunksPlayed > 4, 45_000);
    t.diagnostic(`with both trackers down, home 2 joined through the DHT and played 5 chunks ${Date.now() - startedAt} ms after starting`);
    assert.ok((s.dht?.peersFound ?? 0) > 0);
    assert.match(newcomer.stderr, /looking for peers through the DHT/);
    assert.equal((await viewerStatsIn(lab, home1.ns, 8902))?.chunksSkipped, 0, 'home 1 skipped chunks when the last tracker died');
  });
});
