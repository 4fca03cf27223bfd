// What users and other programs depend on, checked against a snapshot
// (test/fixtures/user-contract.json): the flags of each command and whether each takes a value,
// the HTTP routes of the tracker and of a node's local server, the tracker's metric names, and
// the wire bytes of one message of each type. A change here breaks someone's script, player,
// dashboard or older peer; if it is meant, rewrite the snapshot with
// MESHTV_UPDATE_CONTRACT=1 node --import tsx --test test/cli/user-contract.test.ts
// and say so in the commit. Flags are probed through main() with --help, which every command
// parses and then answers without doing anything.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { main } from '../../src/cli/main.js';
import { UserError } from '../../src/common/errors.js';
import { startHttpOutput } from '../../src/native/http-output.js';
import { encodeMessage, MsgType, PROTOCOL_VERSION, type WireMessage } from '../../src/protocol/codec.js';
import { startTracker, type TrackerServer } from '../../src/tracker/server.js';
import { originChunk, testOrigin } from '../helpers/origin.js';
import { ROOT } from '../helpers/processes.js';

const SNAPSHOT = path.join(ROOT, 'test/fixtures/user-contract.json');
const COMMANDS = ['tracker', 'broadcast', 'watch', 'channels', 'demo', 'bench', 'sim'];

type Contract = Record<string, unknown>;
const actual: Contract = {};
const expected: Contract = fs.existsSync(SNAPSHOT) ? (JSON.parse(fs.readFileSync(SNAPSHOT, 'utf8')) as Contract) : {};

after(() => {
  if (process.env.MESHTV_UPDATE_CONTRACT === '1') fs.writeFileSync(SNAPSHOT, `${JSON.stringify(actual, null, 2)}\n`);
});

function check(part: string, value: unknown): void {
  actual[part] = value;
  if (process.env.MESHTV_UPDATE_CONTRACT === '1') return;
  assert.deepEqual(value, expected[part], `${part} changed: users depend on it (see this file's header)`);
}

/** Whether `meshtv ARGV` parses (its output kept off the test's). */
async function parses(argv: string[]): Promise<boolean> {
  const write = process.stdout.write;
  process.stdout.write = () => true;
  try {
    return (await main(argv)) === 0;
  } catch (err) {
    if (err instanceof UserError) return false;
    throw err;
  } finally {
    process.stdout.write = write;
  }
}

/** Every name declared as a flag anywhere in src/ (parseArgs tables), so a new flag is seen too. */
function declaredFlags(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts'))
        for (const m of fs.readFileSync(p, 'utf8').matchAll(/'?([a-z][a-z0-9-]*)'?: \{ type: '(?:string|boolean)'/g))
          names.add(m[1] as string);
    }
  };
  walk(path.join(ROOT, 'src'));
  return names;
}

describe('what users depend on', () => {
  test('the flags of each command, and which take a value', async () => {
    const known = expected.flags as Record<string, Record<string, string>> | undefined;
    const candidates = new Set([...declaredFlags(), ...Object.values(known ?? {}).flatMap((f) => Object.keys(f))]);
    const flags: Record<string, Record<string, string>> = {};
    for (const command of COMMANDS) {
      const accepted: Record<string, string> = {};
      for (const flag of [...candidates].sort()) {
        if (flag === 'help') continue;
        if (await parses([command, `--${flag}=x`, '--help'])) accepted[flag] = 'value';
        else if (await parses([command, `--${flag}`, '--help'])) accepted[flag] = 'switch';
      }
      flags[command] = accepted;
    }
    check('flags', flags);
  });

  describe('HTTP', () => {
    let tracker: TrackerServer;
    before(async () => {
      tracker = await startTracker({ host: '127.0.0.1', port: 0 });
    });
    after(() => tracker.stop());

    const status = async (base: string, method: string, route: string) =>
      (
        await fetch(`${base}${route}`, {
          method,
          ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}),
        })
      ).status;

    test("the tracker's routes", async () => {
      const routes: Record<string, number> = {};
      const channel = 'ab'.repeat(32);
      for (const [method, route] of [
        ['GET', '/'],
        ['GET', '/api/channels'],
        ['GET', `/api/channels/${channel}`],
        ['GET', '/api/network'],
        ['GET', '/metrics'],
        ['GET', '/favicon.ico'],
        ['GET', '/api/no-such-route'],
        ['POST', '/api/channels'],
        ['POST', '/api/announce'],
        ['POST', `/api/channels/${channel}/thumbnail.jpg`],
      ] as const)
        routes[`${method} ${route}`] = await status(tracker.url, method, route);
      check('tracker routes', routes);
    });

    test("the tracker's metric names", async () => {
      const text = await (await fetch(`${tracker.url}/metrics`)).text();
      // prom-client's process and Node.js metrics vary by platform and library version: only ours.
      const ours = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].filter((m) => !/_(nodejs|process)_/.test(m[1] as string));
      check('tracker metrics', ours.map((m) => `${m[1]} ${m[2]}`).sort());
    });

    test("a node's local server routes", async () => {
      const out = await startHttpOutput({
        host: '127.0.0.1',
        port: 0,
        stats: () => ({}),
        metrics: async () => '',
        origin: testOrigin([originChunk(5, true)]).origin,
      });
      try {
        const routes: Record<string, number> = {};
        for (const route of ['/stats.json', '/metrics', '/chunk/5', '/chunk/99', '/edge.json', '/no-such-route'])
          routes[`GET ${route}`] = await status(`http://127.0.0.1:${out.port}`, 'GET', route);
        check('local server routes', routes);
      } finally {
        await out.close();
      }
    });
  });

  test('the wire bytes of one message of each type', () => {
    const bytes = (n: number, fill: number) => new Uint8Array(n).fill(fill);
    const messages: [string, WireMessage][] = [
      ['hello', { type: MsgType.Hello, version: PROTOCOL_VERSION, channelKey: bytes(32, 1), peerId: bytes(16, 2), role: 'viewer' }],
      [
        'hello, source, no relay',
        { type: MsgType.Hello, version: PROTOCOL_VERSION, channelKey: bytes(32, 1), peerId: bytes(16, 2), role: 'source', relays: false },
      ],
      ['buffer map', { type: MsgType.BufferMap, firstSeq: 1000, count: 12, bits: Uint8Array.of(0xa5, 0x0f), newestKeySeq: 1008 }],
      ['have', { type: MsgType.Have, seq: 70_000, flags: 1 }],
      ['request', { type: MsgType.Request, seq: 70_001 }],
      ['request, urgent', { type: MsgType.Request, seq: 70_002, urgent: true }],
      [
        'chunk',
        {
          type: MsgType.ChunkData,
          chunk: {
            channelKey: bytes(32, 1),
            seq: 70_003,
            captureTimeMs: 1_700_000_000_000,
            flags: 1,
            payload: bytes(5, 9),
            signature: bytes(64, 3),
          },
        },
      ],
      ['reject', { type: MsgType.Reject, seq: 70_004 }],
      ['busy', { type: MsgType.Busy, seq: 70_005, retryMs: 120 }],
      ['cancel', { type: MsgType.Cancel, seq: 70_006 }],
      ['auth', { type: MsgType.Auth, nodeKey: bytes(32, 4), proof: bytes(64, 5) }],
    ];
    const wire: Record<string, string> = { 'protocol version': String(PROTOCOL_VERSION) };
    for (const [name, msg] of messages) wire[name] = Buffer.from(encodeMessage(msg)).toString('hex');
    // On a link, a HAVE after a HAVE is sent as a step from the last one.
    const link = { seq: 0 };
    wire['have, then have 3 later, on a link'] = [
      encodeMessage({ type: MsgType.Have, seq: 500, flags: 0 }, link),
      encodeMessage({ type: MsgType.Have, seq: 503, flags: 0 }, link),
    ]
      .map((b) => Buffer.from(b).toString('hex'))
      .join(' ');
    check('wire', wire);
  });
});
