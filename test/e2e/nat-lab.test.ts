// The NAT lab behaves like the real thing, checked without any meshtv code: small node scripts
// run inside the namespaces. A cone lab and a symmetric lab are built side by side (which also
// shows that two labs do not collide), each with its own coturn.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { createNatLab, type NatLab, natLabAvailable } from '../helpers/nat-lab.js';

// Shared by the scripts below: JSON lines out, and just enough STUN (RFC 5389) and TURN
// (RFC 5766) to ask for a mapped address and to relay through coturn.
const LIB = String.raw`
const dgram = require('node:dgram');
const net = require('node:net');
const crypto = require('node:crypto');
const P = JSON.parse(process.env.LAB_PARAMS);
const out = (x) => process.stdout.write(JSON.stringify(x) + '\n');
if (P.timeoutMs) setTimeout(() => { out({ error: 'timed out' }); process.exit(2); }, P.timeoutMs).unref();
const COOKIE = 0x2112a442;
function stun(type, attrs, key) {
  const parts = [];
  for (const [t, v] of attrs) {
    const h = Buffer.alloc(4);
    h.writeUInt16BE(t, 0);
    h.writeUInt16BE(v.length, 2);
    parts.push(h, v, Buffer.alloc((4 - (v.length % 4)) % 4));
  }
  let body = Buffer.concat(parts);
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(COOKIE, 4);
  crypto.randomBytes(12).copy(header, 8);
  if (key) {
    // MESSAGE-INTEGRITY covers the header with a length that already counts this attribute (RFC 5389 15.4).
    header.writeUInt16BE(body.length + 24, 2);
    const mac = crypto.createHmac('sha1', key).update(Buffer.concat([header, body])).digest();
    body = Buffer.concat([body, Buffer.from([0x00, 0x08, 0x00, 20]), mac]);
  }
  header.writeUInt16BE(body.length, 2);
  return Buffer.concat([header, body]);
}
function parse(buf) {
  if (buf.length < 20 || buf.readUInt32BE(4) !== COOKIE) return undefined;
  const attrs = new Map();
  for (let o = 20; o + 4 <= Math.min(buf.length, 20 + buf.readUInt16BE(2)); ) {
    const len = buf.readUInt16BE(o + 2);
    attrs.set(buf.readUInt16BE(o), buf.subarray(o + 4, o + 4 + len));
    o += 4 + len + ((4 - (len % 4)) % 4);
  }
  return { type: buf.readUInt16BE(0), txn: buf.subarray(8, 20).toString('hex'), attrs };
}
function xorAddress(v) {
  const a = (v.readUInt32BE(4) ^ COOKIE) >>> 0;
  return { address: [a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.'), port: v.readUInt16BE(2) ^ 0x2112 };
}
function xorAttr(address, port) {
  const v = Buffer.alloc(8);
  v[1] = 1;
  v.writeUInt16BE(port ^ 0x2112, 2);
  v.writeUInt32BE((address.split('.').reduce((x, n) => x * 256 + Number(n), 0) ^ COOKIE) >>> 0, 4);
  return v;
}
// A UDP socket that answers STUN transactions (retransmitting every 200 ms) and hands anything else to onOther.
function stunSocket(onOther) {
  const sock = dgram.createSocket('udp4');
  const pending = new Map();
  sock.on('message', (m, rinfo) => {
    const msg = parse(m);
    const done = msg && pending.get(msg.txn);
    if (done) done(msg);
    else onOther(m, rinfo, msg);
  });
  sock.request = (buf, port, address) =>
    new Promise((resolve) => {
      const txn = buf.subarray(8, 20).toString('hex');
      const timer = setInterval(() => sock.send(buf, port, address), 200);
      pending.set(txn, (msg) => {
        clearInterval(timer);
        pending.delete(txn);
        resolve(msg);
      });
      sock.send(buf, port, address);
    });
  return sock;
}
`;

// In the internet: answers every UDP datagram with the source address and port it saw.
const ECHO_SERVER = `${LIB}
let open = 0;
for (const { address, port } of P.endpoints) {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => s.send(JSON.stringify({ address: r.address, port: r.port }), r.port, r.address));
  s.bind(port, address, () => ++open === P.endpoints.length && out({ ready: true }));
}`;

// In a home: from ONE socket, asks each target what source it sees, until all have answered.
const UDP_PROBE = `${LIB}
const s = dgram.createSocket('udp4');
const seen = new Array(P.targets.length);
s.on('message', (m, r) => {
  const i = P.targets.findIndex((t) => t.address === r.address && t.port === r.port);
  if (i >= 0) seen[i] = JSON.parse(m);
  if (seen.filter(Boolean).length === P.targets.length) {
    out({ localPort: s.address().port, seen });
    process.exit(0);
  }
});
s.bind(0, () => {
  const ask = () => P.targets.forEach((t, i) => seen[i] || s.send('who am i', t.port, t.address));
  ask();
  setInterval(ask, 200);
});`;

// Tries to open a TCP connection and to send UDP to each target; reports how each attempt ended.
const CONNECT = `${LIB}
Promise.all(P.targets.map((t) => new Promise((resolve) => {
  const c = net.connect({ host: t.address, port: t.port, timeout: 1000 });
  c.on('connect', () => { c.destroy(); resolve('connected'); });
  c.on('timeout', () => { c.destroy(); resolve('timeout'); });
  c.on('error', (e) => resolve(e.code));
}))).then((tcp) => {
  out({ tcp });
  process.exit(0);
});`;

// In a home: a TCP server that reports every connection it gets.
const TCP_SERVER = `${LIB}
net.createServer((c) => { out({ connection: c.remoteAddress }); c.destroy(); }).listen(P.port, '0.0.0.0', () => out({ ready: true }));`;

// In a home: a STUN Binding request (RFC 5389 section 6) to the server; reports XOR-MAPPED-ADDRESS.
const STUN_BINDING = `${LIB}
const s = stunSocket(() => {});
s.bind(0, async () => {
  const r = await s.request(stun(0x0001, []), P.port, P.address);
  out({ localPort: s.address().port, type: r.type, mapped: xorAddress(r.attrs.get(0x0020)) });
  process.exit(0);
});`;

// In a home: a TURN allocation with long-term credentials (RFC 5766 sections 6 and 9), a permission
// for the peer's address, then it answers the first datagram relayed from the peer with 'pong'.
const TURN_CLIENT = `${LIB}
const s = stunSocket((m, r, msg) => {
  if (!msg || msg.type !== 0x0017) return; // Data indication
  const peer = xorAddress(msg.attrs.get(0x0012));
  out({ peer, data: msg.attrs.get(0x0013).toString() });
  s.send(stun(0x0016, [[0x0012, xorAttr(peer.address, peer.port)], [0x0013, Buffer.from('pong')]]), P.port, P.address, () =>
    setTimeout(() => process.exit(0), 100));
});
s.bind(0, async () => {
  const udp = [0x0019, Buffer.from([17, 0, 0, 0])];
  const challenge = await s.request(stun(0x0003, [udp]), P.port, P.address);
  if (challenge.type !== 0x0113) throw new Error('expected a 401 challenge, got type ' + challenge.type);
  const realm = challenge.attrs.get(0x0014);
  const auth = [[0x0006, Buffer.from(P.username)], [0x0014, realm], [0x0015, challenge.attrs.get(0x0015)]];
  const key = crypto.createHash('md5').update(P.username + ':' + realm + ':' + P.credential).digest();
  const alloc = await s.request(stun(0x0003, [udp, ...auth], key), P.port, P.address);
  if (alloc.type !== 0x0103) throw new Error('allocate failed: ' + String(alloc.attrs.get(0x0009)?.subarray(4)));
  const perm = await s.request(stun(0x0008, [[0x0012, xorAttr(P.peer, 0)], ...auth], key), P.port, P.address);
  if (perm.type !== 0x0108) throw new Error('CreatePermission failed: ' + String(perm.attrs.get(0x0009)?.subarray(4)));
  out({ relayed: xorAddress(alloc.attrs.get(0x0016)) });
});`;

// In the other home: sends 'ping' to a relayed address until something comes back.
const PEER = `${LIB}
const s = dgram.createSocket('udp4');
s.on('message', (m, r) => { out({ reply: m.toString(), from: { address: r.address, port: r.port } }); process.exit(0); });
s.bind(0, () => {
  const ping = () => s.send('ping', P.port, P.address);
  ping();
  setInterval(ping, 200);
});`;

type Json = Record<string, unknown>;
interface Endpoint {
  address: string;
  port: number;
}

/** Runs a script to its end in a namespace and returns its last JSON line. */
async function run(lab: NatLab, ns: string, script: string, params: Json): Promise<Json> {
  const r = await lab.exec(ns, [process.execPath, '-e', script], { env: { LAB_PARAMS: JSON.stringify({ timeoutMs: 5000, ...params }) } });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.code !== 0 || !last.startsWith('{')) throw new Error(`script in ${ns} failed (${r.code ?? r.signal}): ${r.stdout}${r.stderr}`);
  return JSON.parse(last) as Json;
}

/** A long-running script in a namespace; `lines` collects its JSON lines. */
function start(lab: NatLab, ns: string, script: string, params: Json) {
  const child = lab.spawn(ns, process.execPath, ['-e', script], { LAB_PARAMS: JSON.stringify(params) });
  const lines: Json[] = [];
  let stderr = '';
  const waiters: (() => void)[] = [];
  let buf = '';
  child.stdout?.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, i)) as Json);
      buf = buf.slice(i + 1);
    }
    for (const w of waiters) w();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const line = (key: string, timeoutMs = 5000) =>
    new Promise<Json>((resolve, reject) => {
      const fail = (why: string) =>
        reject(new Error(`no "${key}" line from a script in ${ns} (${why}): ${JSON.stringify(lines)} ${stderr}`));
      const timer = setTimeout(() => fail('timed out'), timeoutMs);
      const check = () => {
        const found = lines.find((l) => key in l);
        if (found) {
          clearTimeout(timer);
          resolve(found);
        }
        return found;
      };
      waiters.push(check);
      check();
      child.once('close', () => {
        if (!check()) {
          clearTimeout(timer);
          fail('it exited');
        }
      });
    });
  return { child, lines, line };
}

// Namespaces and veths need root; anything else missing as root is a failure, not a skip.
const skip = process.getuid?.() === 0 ? false : (natLabAvailable() ?? 'not root');

describe('NAT lab', { skip, timeout: 30_000 }, () => {
  let cone: NatLab;
  let symmetric: NatLab;
  const echoPorts = [7000, 7001];
  /** Three inet endpoints: two ports on the server address, and one on another inet address. */
  const targets = (lab: NatLab): Endpoint[] => [
    { address: lab.serverAddress, port: 7000 },
    { address: lab.serverAddress, port: 7001 },
    { address: lab.internetAddresses[1], port: 7000 },
  ];

  before(async () => {
    [cone, symmetric] = await Promise.all([createNatLab({ nat: 'cone', turn: true }), createNatLab({ nat: 'symmetric', turn: true })]);
    for (const lab of [cone, symmetric]) {
      const endpoints = [
        ...echoPorts.map((port) => ({ address: lab.serverAddress, port })),
        { address: lab.internetAddresses[1], port: 7000 },
      ];
      await start(lab, lab.internet, ECHO_SERVER, { endpoints }).line('ready');
    }
  });
  after(async () => {
    await cone?.destroy();
    await symmetric?.destroy();
  });

  test('two labs get distinct namespaces', () => {
    assert.notEqual(cone.prefix, symmetric.prefix);
    const listed = fs.readdirSync('/run/netns');
    for (const ns of [...cone.namespaces, ...symmetric.namespaces]) assert.ok(listed.includes(ns), `${ns} exists`);
  });

  test('a home reaches the internet, which sees the router’s public address, not the private one', async () => {
    for (const [i, home] of cone.homes.entries()) {
      const r = await run(cone, home.ns, UDP_PROBE, { targets: targets(cone).slice(0, 1) });
      assert.deepEqual(
        (r.seen as Endpoint[]).map((e) => e.address),
        [home.publicAddress],
        `home${i + 1}`,
      );
    }
  });

  test('neither the internet nor the other home can open a connection to a home', async () => {
    const home = cone.homes[0];
    const server = start(cone, home.ns, TCP_SERVER, { port: 7100 });
    await server.line('ready');
    // The server does listen: from its own host it answers.
    assert.deepEqual((await run(cone, home.ns, CONNECT, { targets: [{ address: home.address, port: 7100 }] })).tcp, ['connected']);
    server.lines.length = 0;
    const fromInternet = await run(cone, cone.internet, CONNECT, {
      targets: [
        { address: home.address, port: 7100 },
        { address: home.publicAddress, port: 7100 },
      ],
    });
    // The internet does not route 192.168.0.0/16 (the packets vanish); the router drops what
    // arrives unsolicited at its public address, as home routers do.
    assert.deepEqual(fromInternet.tcp, ['timeout', 'timeout']);
    const fromOtherHome = await run(cone, cone.homes[1].ns, CONNECT, { targets: [{ address: home.address, port: 7100 }] });
    assert.deepEqual(fromOtherHome.tcp, ['timeout'], 'from home2');
    assert.deepEqual(server.lines, [], 'the home’s server saw no connection');
  });

  test('cone NAT keeps one external port for every destination; symmetric NAT does not', async () => {
    const c = await run(cone, cone.homes[0].ns, UDP_PROBE, { targets: targets(cone) });
    const s = await run(symmetric, symmetric.homes[0].ns, UDP_PROBE, { targets: targets(symmetric) });
    const ports = (r: Json) => (r.seen as Endpoint[]).map((e) => e.port);
    for (const e of [...(c.seen as Endpoint[]), ...(s.seen as Endpoint[])]) assert.equal(e.address, '10.77.1.2');
    // Linux masquerade keeps the source port when it is free: endpoint-independent mapping.
    assert.deepEqual(ports(c), [c.localPort, c.localPort, c.localPort], 'cone');
    assert.equal(new Set(ports(s)).size, 3, `symmetric: ports ${ports(s)} should all differ`);
  });

  test('coturn answers STUN from a home with the router’s public address', async () => {
    for (const lab of [cone, symmetric]) {
      const turn = lab.turn;
      assert.ok(turn);
      const r = await run(lab, lab.homes[0].ns, STUN_BINDING, { address: turn.address, port: turn.port });
      assert.equal(r.type, 0x0101, 'a Binding success response');
      const mapped = r.mapped as Endpoint;
      assert.equal(mapped.address, lab.homes[0].publicAddress, lab.nat);
      if (lab.nat === 'cone') assert.equal(mapped.port, r.localPort);
    }
    assert.match(cone.turn?.stunUrl ?? '', /^stun:10\.77\.0\.1:3478$/);
    assert.match(cone.turn?.url ?? '', /^turn:10\.77\.0\.1:3478$/);
  });

  test('behind symmetric NATs, coturn relays between the two homes with the lab credentials', async () => {
    const lab = symmetric;
    const turn = lab.turn;
    assert.ok(turn);
    const [home1, home2] = lab.homes;
    const client = start(lab, home1.ns, TURN_CLIENT, {
      address: turn.address,
      port: turn.port,
      username: turn.username,
      credential: turn.credential,
      peer: home2.publicAddress,
      timeoutMs: 8000,
    });
    const relayed = (await client.line('relayed').catch((e) => assert.fail(`${e.message}\ncoturn: ${turn.log()}`))).relayed as Endpoint;
    assert.equal(relayed.address, turn.address);
    const peer = await run(lab, home2.ns, PEER, relayed as unknown as Json);
    assert.deepEqual(peer, { reply: 'pong', from: relayed });
    const got = await client.line('data');
    assert.equal(got.data, 'ping');
    assert.equal((got.peer as Endpoint).address, home2.publicAddress);
  });

  test('destroy() leaves no namespace and no process behind', async () => {
    const pids = [cone.turn?.pid, symmetric.turn?.pid] as number[];
    await cone.destroy();
    await symmetric.destroy();
    const left = fs.readdirSync('/run/netns').filter((ns) => ns.startsWith(`${cone.prefix}-`) || ns.startsWith(`${symmetric.prefix}-`));
    assert.deepEqual(left, []);
    for (const pid of pids) assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, `turnserver ${pid} still runs`);
  });
});
