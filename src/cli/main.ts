// The `meshtv` command line: parses flags strictly and starts the composition roots.
// User errors print one line and exit 1; anything else is a bug and prints its stack.

import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../common/errors.js';
import { forTerminal, type Logger } from '../common/log.js';
import { type EncodingOptions, parseBitrateKbps, parseFps, parseResolution } from '../media/encoding.js';
import { describeInput, type InputSource, parseInput, rtmpServerUrl } from '../media/input.js';
import { parseRenditions } from '../media/renditions.js';
import { startBroadcast } from '../native/broadcaster.js';
import { listChannels } from '../native/tracker-client.js';
import { startViewer } from '../native/viewer.js';
import { channelNameProblem } from '../protocol/channel-record.js';
import { trustedProxies } from '../tracker/addresses.js';
import { startTracker } from '../tracker/server.js';
import { isSignalingUrl, isTurnServer } from '../transport/ice.js';
import { parse, parseSourceUploadLimit, setCommand, str } from './args.js';
import { defaultKeyFile, iceServers, logger, networkOptions, PEER, port, positiveInt, trackers, uploadPolicy } from './peer-flags.js';
import { findPlayer, isHeadless, type PlayerProcess, parsePlayer, playerArgs, startPlayer } from './player-launcher.js';
import { Shutdown, type Stoppable } from './shutdown.js';
import { StatusLine } from './status-line.js';
import { runToolCommand, TOOL_COMMANDS } from './tools.js';

const USAGE = `meshtv — peer-to-peer live TV

Usage:
  meshtv tracker   [--host 127.0.0.1] [--port 8000] [--stun URL] [--turn URL] [--turn-secret SECRET]
                   [--signaling ws://STOCK-TRACKER] [--rate-limit 20 (requests/s per address; 0: none)]
                   [--trust-proxy ADDR|CIDR (a reverse proxy whose X-Forwarded-For is believed)]
                   [--private-network (peers may announce private addresses: LANs, labs)]
  meshtv broadcast [--input testsrc|FILE|-|udp://HOST:PORT|srt://HOST:PORT|rtmp://HOST:PORT/APP[/KEY]|URL]
                   [--loop] [--copy] [--video-bitrate 2500k] [--audio-bitrate 128k] [--resolution 1280x720|720p]
                   [--renditions [NAME=]HEIGHTp[@RATE],... (e.g. 360p,720p)] [--fps N]
                   [--tracker URL] [--name NAME] [--key FILE] [--host ADDR] [--peer-port N]
                   [--announce-address ADDR] [--max-peers N] [--upload-limit RATE|unlimited] [--http-port N]
                   [--http-host 127.0.0.1] [--stun URL] [--turn URL]
                   [--no-dht | --dht-bootstrap HOST:PORT]
  meshtv watch <uri|id|name> [--player vlc|mpv|ffplay] [--tracker URL] [--http-port 8902]
                   [--http-host 127.0.0.1] [--host ADDR] [--peer-port N] [--announce-address ADDR] [--max-peers N]
                   [--upload-limit RATE (e.g. 2mbit) | --no-upload] [--quality auto|NAME] [--stun URL] [--turn URL]
                   [--no-dht | --dht-bootstrap HOST:PORT]
  meshtv channels  [--tracker URL] [--json]
  meshtv demo      [--port 8000] [--http-port 8902]
  meshtv bench     [--peers 20] [--duration-s 30] [--rho 1.25] [--free-riders 0.2] [--churn SHARE_PER_MIN]
                   [--hosts 4] [--netns] [--restart-tracker-at-s T] [--restart-source-at-s T]
                   [--source-upload-limit RATE] [--video-bitrate RATE] [--out DIR] [--json]
  meshtv sim       [--peers 200[,N...]] [--duration-s 60] [--rho 1.25] [--free-riders 0.2] [--churn PER_MIN]
                   [--flash-crowd-s 10] [--seed 1[,S...]] [--jobs J] [--out DIR] [--json] [--progress]
                   (meshtv sim --help lists every flag)

Common flags: --log-level debug|info|warn|error, --log-format text|json, --help.
Every flag may also be set by the environment (MESHTV_<FLAG>, e.g. MESHTV_UPLOAD_LIMIT=2mbit) or
the config file (MESHTV_CONFIG, default ~/.meshtv/config.json, e.g. {"watch": {"http-port": 8910}});
a flag wins over the environment, which wins over the file. --tracker may be repeated.
STUN/TURN (for WebRTC peers behind NAT; none by default, the trackers may hand some out):
--stun stun:HOST:PORT, --turn turn:USER:PASS@HOST:PORT[?transport=tcp], both repeatable. A tracker
started with --turn turn:HOST:PORT --turn-secret S hands out time-limited credentials for a TURN
server that shares S (coturn: use-auth-secret, static-auth-secret=S).
A tracker started with --signaling wss://HOST sends WebRTC signalling to that WebTorrent tracker
(e.g. a scaled bittorrent-tracker) instead of its own /announce.
Broadcasters and viewers also meet through the BitTorrent DHT, so a channel stays findable with
every tracker down: --dht-bootstrap HOST:PORT (repeatable) names the nodes to join through
(default: the DHT's public routers); --no-dht turns it off.
`;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE);
    return command === undefined ? 1 : 0;
  }
  setCommand(command);
  if (TOOL_COMMANDS.has(command)) return runToolCommand(command, rest);
  switch (command) {
    case 'tracker':
      return runTracker(rest);
    case 'broadcast':
      return runBroadcast(rest);
    case 'watch':
      return runWatch(rest);
    case 'channels':
      return runChannels(rest);
    case 'demo':
      return runDemo(rest);
    default:
      throw new UserError(`unknown command "${command}"; run meshtv --help`);
  }
}

async function runTracker(args: string[]): Promise<number> {
  const { values } = parse(args, {
    host: { type: 'string' },
    port: { type: 'string' },
    stun: { type: 'string', multiple: true },
    turn: { type: 'string', multiple: true },
    'turn-secret': { type: 'string' },
    signaling: { type: 'string', multiple: true },
    'rate-limit': { type: 'string' },
    'trust-proxy': { type: 'string', multiple: true },
    'private-network': { type: 'boolean' },
  });
  if (values.help) return help();
  const trustProxy = (values['trust-proxy'] as string[] | undefined) ?? [];
  try {
    trustedProxies(trustProxy);
  } catch (err) {
    throw new UserError(`--trust-proxy: ${(err as Error).message}`);
  }
  const rate = str(values, 'rate-limit');
  const ratePerS = rate === undefined ? undefined : Number(rate);
  if (ratePerS !== undefined && !(Number.isFinite(ratePerS) && ratePerS >= 0 && ratePerS <= 1e6))
    throw new UserError(`--rate-limit must be requests per second per address, 0-1000000 (0: no limit), got "${rate}"`);
  const log = logger(values);
  const host = str(values, 'host') ?? '127.0.0.1';
  const p = port(str(values, 'port'), '--port', 8000);
  const servers = iceServers(values) ?? [];
  const turnSecret = str(values, 'turn-secret');
  if (turnSecret !== undefined && !servers.some(isTurnServer))
    throw new UserError('--turn-secret needs a --turn server to hand credentials out for');
  const signalingUrls = ((values.signaling as string[] | undefined) ?? []).map((u) => {
    if (!isSignalingUrl(u)) throw new UserError(`--signaling ${JSON.stringify(u)} must be a ws:// or wss:// URL of a WebTorrent tracker`);
    return u;
  });
  const shutdown = new Shutdown();
  const tracker = await startTracker({
    host,
    port: p,
    ice: { servers, ...(turnSecret !== undefined ? { turnSecret } : {}) },
    signalingUrls,
    trustProxy,
    privateNetwork: values['private-network'] === true,
    log,
    // The bench runs every client on 127.0.0.1.
    ...(ratePerS === undefined
      ? {}
      : {
          rateLimit:
            ratePerS === 0 ? { ratePerS: Number.POSITIVE_INFINITY, burst: Number.POSITIVE_INFINITY } : { ratePerS, burst: 3 * ratePerS },
        }),
  }).catch((err: NodeJS.ErrnoException) => {
    throw new UserError(
      err.code === 'EADDRINUSE'
        ? `port ${p} on ${host} is in use; choose another with --port`
        : `cannot listen on ${host}:${p}: ${err.message}`,
    );
  });
  process.stdout.write(`tracker listening on ${tracker.url}\n`);
  log.info(`channel directory: ${tracker.url}/api/channels`);
  return shutdown.until([tracker]);
}

async function runBroadcast(args: string[]): Promise<number> {
  const { values } = parse(args, {
    ...PEER,
    name: { type: 'string' },
    key: { type: 'string' },
    input: { type: 'string' },
    loop: { type: 'boolean' },
    copy: { type: 'boolean' },
    'video-bitrate': { type: 'string' },
    'audio-bitrate': { type: 'string' },
    resolution: { type: 'string' },
    renditions: { type: 'string' },
    fps: { type: 'string' },
    'upload-limit': { type: 'string' },
    'http-host': { type: 'string' },
  });
  if (values.help) return help();
  const log = logger(values);
  const sourceLimit = str(values, 'upload-limit');
  const input = parseInput(str(values, 'input'), { loop: values.loop === true, makeKey: () => randomBytes(12).toString('base64url') });
  if (input.kind === 'stdin' && process.stdin.isTTY) {
    throw new UserError(
      '--input - reads MPEG-TS from stdin, which is a terminal; pipe a stream in: ffmpeg -i SOURCE -f mpegts - | meshtv broadcast --input -',
    );
  }
  const vb = str(values, 'video-bitrate');
  const ab = str(values, 'audio-bitrate');
  const res = str(values, 'resolution');
  const fps = str(values, 'fps');
  const ladder = str(values, 'renditions');
  const encoding: Partial<EncodingOptions> = {
    ...(ladder !== undefined ? { renditions: parseRenditions(ladder) } : {}),
    copy: values.copy === true,
    ...(vb !== undefined ? { videoBitrateKbps: parseBitrateKbps(vb, '--video-bitrate') } : {}),
    ...(ab !== undefined ? { audioBitrateKbps: parseBitrateKbps(ab, '--audio-bitrate') } : {}),
    ...(res !== undefined ? { resolution: parseResolution(res) } : {}),
    ...(fps !== undefined ? { fps: parseFps(fps) } : {}),
  };
  const name = str(values, 'name') ?? defaultChannelName(input);
  const badName = channelNameProblem(name);
  if (badName !== undefined) throw new UserError(`--name: ${badName}`);
  const shutdown = new Shutdown();
  const b = await startBroadcast({
    trackers: trackers(values),
    name,
    keyFile: str(values, 'key') ?? defaultKeyFile(),
    host: str(values, 'host') ?? '0.0.0.0',
    port: port(str(values, 'peer-port'), '--peer-port', 0),
    ...(str(values, 'announce-address') ? { announceAddress: str(values, 'announce-address') } : {}),
    ...(str(values, 'http-port') !== undefined ? { httpPort: port(str(values, 'http-port'), '--http-port', 0) } : {}),
    ...(str(values, 'http-host') !== undefined ? { httpHost: str(values, 'http-host') } : {}),
    ...(str(values, 'max-peers') !== undefined ? { maxPeers: positiveInt(str(values, 'max-peers'), '--max-peers') as number } : {}),
    input,
    encoding,
    ...(sourceLimit !== undefined ? { uploadLimit: parseSourceUploadLimit(sourceLimit, '--upload-limit') } : {}),
    network: networkOptions(values),
    log,
  });
  if (b.keyCreated) log.info(`created a new channel key`);
  log.info(`broadcasting "${name}" from ${describeInput(input)}`);
  if (input.kind === 'rtmp') logObsSettings(log, input);
  else if (b.stats().chunksProduced === 0) log.info(`waiting for ${describeInput(input)}`);
  if (b.httpUrl) log.info(`stats: ${b.httpUrl}/stats.json`);
  process.stdout.write(`${b.uri}\n`);
  return shutdown.until(
    [b],
    b.ended.then(() => 0),
  );
}

/** --quality: auto, or a rendition name as the broadcaster spells it. */
function quality(value: string): string {
  const q = value.trim();
  if (q === 'auto' || /^[A-Za-z0-9_-]{1,16}$/.test(q)) return q;
  throw new UserError(`--quality must be auto or a rendition name such as 720p, got "${value}"`);
}

function defaultChannelName(input: InputSource): string {
  if (input.kind === 'testsrc') return 'test pattern';
  if (input.kind === 'file') return path.basename(input.path).replace(/\.[^.]*$/, '') || 'live';
  return 'live';
}

/** Where OBS (Settings > Stream, Service "Custom...") must push to. */
function logObsSettings(log: Logger, input: Extract<InputSource, { kind: 'rtmp' }>): void {
  const any = input.host === '0.0.0.0' || input.host === '::';
  const lan = Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a !== undefined && a.family === 'IPv4' && !a.internal)
    .map((a) => (a as os.NetworkInterfaceInfo).address)
    .slice(0, 3);
  const hosts = any ? ['127.0.0.1', ...lan] : [input.host];
  log.info('waiting for a push from OBS (Settings > Stream, Service "Custom..."):');
  log.info(`  Server:     ${hosts.map((h) => rtmpServerUrl({ ...input, host: h })).join('  or  ')}`);
  log.info(`  Stream Key: ${input.streamKey}`);
  if (input.keyGenerated) log.info(`  (a new key each run; to keep one, put it in the URL: ${rtmpServerUrl(input)}/KEY)`);
}

/** After the channel ended, how long a player may play out what it holds before it is stopped. */
const PLAYER_END_GRACE_MS = 10_000;
/** A player that fails sooner than this did not start: that is an error, not the user closing it. */
const PLAYER_FAILED_FAST_MS = 3000;

async function runWatch(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...PEER,
      'http-host': { type: 'string' },
      player: { type: 'string' },
      'upload-limit': { type: 'string' },
      'no-upload': { type: 'boolean' },
      quality: { type: 'string' },
    },
    1,
  );
  if (values.help) return help();
  const channel = positionals[0];
  if (channel === undefined) throw new UserError('which channel? usage: meshtv watch <uri|id|name>');
  // A missing player is found out before joining anything.
  const playerName = str(values, 'player') !== undefined ? parsePlayer(str(values, 'player') as string) : undefined;
  const playerPath = playerName !== undefined ? findPlayer(playerName) : undefined;
  const status = new StatusLine(process.stderr);
  const log = logger(values, status);
  const httpPortFlag = str(values, 'http-port');
  const shutdown = new Shutdown();
  const v = await startViewer({
    channel,
    trackers: trackers(values),
    host: str(values, 'host') ?? '0.0.0.0',
    port: port(str(values, 'peer-port'), '--peer-port', 0),
    ...(str(values, 'announce-address') ? { announceAddress: str(values, 'announce-address') } : {}),
    httpHost: str(values, 'http-host') ?? '127.0.0.1',
    httpPort: port(httpPortFlag, '--http-port', 8902),
    // Several viewers on one machine: without --http-port, a busy default port is no error.
    httpFallbackPorts: httpPortFlag === undefined ? 10 : 0,
    ...(str(values, 'max-peers') !== undefined ? { maxPeers: positiveInt(str(values, 'max-peers'), '--max-peers') as number } : {}),
    ...(str(values, 'quality') !== undefined ? { quality: quality(str(values, 'quality') as string) } : {}),
    core: uploadPolicy(values),
    network: networkOptions(values),
    log,
  });
  process.stdout.write(`${v.streamUrl}\n`);
  const parts: Stoppable[] = [v];
  let player: PlayerProcess | undefined;
  if (playerName !== undefined && playerPath !== undefined) {
    const headless = isHeadless();
    if (headless && playerName === 'ffplay') log.warn('no display (DISPLAY and WAYLAND_DISPLAY unset): ffplay plays the sound only');
    const title = `meshtv ${channel.startsWith('meshtv://') || /^[0-9a-f]{64}$/i.test(channel) ? v.channelId.slice(0, 12) : channel}`;
    player = startPlayer(playerPath, playerArgs(playerName, v.streamUrl, { title, headless }));
    parts.unshift(player);
    log.info(`started ${playerName} on ${v.streamUrl}; HLS: ${v.playlistUrl}; stats: ${v.statsUrl}`);
  } else {
    log.info(`play it with: vlc ${v.streamUrl}   (or mpv, ffplay); HLS: ${v.playlistUrl}; stats: ${v.statsUrl}`);
  }
  status.start(() => v.statusLine());

  // Set once the channel has ended or we are stopping: the player's exit is then expected.
  let ended = false;
  const done = new Promise<number>((resolve, reject) => {
    v.ended.then(async () => {
      ended = true;
      // Players play out what they hold; neighbours may still fetch the last chunks from us.
      const playerDone = player ? Promise.race([player.exited, new Promise((r) => setTimeout(r, PLAYER_END_GRACE_MS))]) : undefined;
      await Promise.all([v.drain(), playerDone]);
      resolve(0);
    });
    player?.exited.then((exit) => {
      if (ended) return;
      const how = exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code}`;
      const why = exit.lastLine ? `: ${exit.lastLine}` : '';
      if (exit.code !== 0 && exit.ranMs < PLAYER_FAILED_FAST_MS) {
        reject(new UserError(`${playerName} exited at once (${how})${why}`));
        return;
      }
      log.info(`${playerName} exited${exit.code === 0 ? '' : ` (${how})`}; stopping`);
      resolve(0);
    });
  });
  return shutdown.until(parts, done, () => {
    ended = true;
    status.stop();
  });
}

async function runChannels(args: string[]): Promise<number> {
  const { values } = parse(args, { tracker: { type: 'string', multiple: true }, json: { type: 'boolean' } });
  if (values.help) return help();
  const lists = await Promise.all(trackers(values).map((t) => listChannels(t)));
  const seen = new Map<string, (typeof lists)[number][number]>();
  for (const c of lists.flat()) if (!seen.has(c.id)) seen.set(c.id, c);
  const channels = [...seen.values()];
  if (values.json) {
    process.stdout.write(`${JSON.stringify(channels)}\n`);
    return 0;
  }
  if (channels.length === 0) {
    process.stdout.write('no live channels\n');
    return 0;
  }
  for (const c of channels) {
    const more = c.sameNameCount > c.sameNameAs.length ? ` and ${c.sameNameCount - c.sameNameAs.length} more` : '';
    const clash = c.sameNameCount > 0 ? `  (name also used by ${c.sameNameAs.map((id) => id.slice(0, 8)).join(', ')}${more})` : '';
    process.stdout.write(
      `${c.id}  ${String(c.viewers).padStart(5)} viewers  ${((c.bitrateBps ?? 0) / 1000).toFixed(0).padStart(5)} kbit/s  ${forTerminal(c.name, true)}${clash}\n`,
    );
  }
  return 0;
}

async function runDemo(args: string[]): Promise<number> {
  const { values } = parse(args, { port: { type: 'string' }, 'http-port': { type: 'string' }, key: { type: 'string' } });
  if (values.help) return help();
  const status = new StatusLine(process.stderr);
  const log = logger(values, status);
  const trackerPort = port(str(values, 'port'), '--port', 8000);
  const httpPort = port(str(values, 'http-port'), '--http-port', 8902);
  const parts: Stoppable[] = [];
  const shutdown = new Shutdown();
  try {
    const tracker = await startTracker({ host: '127.0.0.1', port: trackerPort }).catch((err: NodeJS.ErrnoException) => {
      throw new UserError(
        err.code === 'EADDRINUSE' ? `port ${trackerPort} is in use (another meshtv demo?); choose another with --port` : err.message,
      );
    });
    parts.push(tracker);
    const b = await startBroadcast({
      trackers: [tracker.url],
      name: 'meshtv demo',
      keyFile: str(values, 'key') ?? path.join(process.env.MESHTV_HOME || path.join(os.homedir(), '.meshtv'), 'demo.key'),
      host: '127.0.0.1',
      port: 0,
      // The HTTP origin browsers fall back on when no peer has a chunk in time.
      httpPort: 0,
      log: log.child('broadcast'),
    });
    parts.push(b);
    const viewers = [];
    for (let i = 0; i < 2; i++) {
      const v = await startViewer({
        channel: b.uri,
        trackers: [],
        host: '127.0.0.1',
        port: 0,
        httpHost: '127.0.0.1',
        httpPort: httpPort === 0 ? 0 : httpPort + i,
        log: log.child(`viewer${i + 1}`),
      });
      parts.push(v);
      viewers.push(v);
    }
    const [first, second] = viewers as [Awaited<ReturnType<typeof startViewer>>, Awaited<ReturnType<typeof startViewer>>];
    process.stdout.write(
      [
        'meshtv demo is running: a tracker, a test-pattern channel and two viewers relaying to each other.',
        `  channel:     ${b.uri}`,
        `  web page:    ${tracker.url}/watch/${b.channelId}   (all channels: ${tracker.url}/)`,
        `  VLC/mpv URL: ${first.streamUrl}`,
        `  viewer 2:    ${second.streamUrl}`,
        `  stats:       ${first.statsUrl}`,
        'Open the web page in a browser, or the VLC/mpv URL in a player (vlc, mpv, ffplay). Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    status.start(() => `viewer 1: ${first.statusLine()}`);
  } catch (err) {
    await Promise.allSettled(parts.reverse().map((p) => p.stop()));
    throw err;
  }
  return shutdown.until(parts.reverse(), undefined, () => status.stop());
}

function help(): number {
  process.stdout.write(USAGE);
  return 0;
}
