// `meshtv watch`: joins a channel, serves it to local players and starts one when asked, until a
// signal, the channel's end or the player's exit.

import { UserError } from '../common/errors.js';
import { startViewer } from '../native/viewer.js';
import { commandHelp, parse, str } from './args.js';
import { logger, networkOptions, PEER, port, positiveInt, trackers, uploadPolicy } from './peer-flags.js';
import { findPlayer, isHeadless, type PlayerProcess, parsePlayer, playerArgs, startPlayer } from './player-launcher.js';
import { Shutdown, type Stoppable } from './shutdown.js';
import { StatusLine } from './status-line.js';
import { TIMESHIFT_FLAGS, timeshiftOption } from './timeshift-flags.js';

/** --quality: auto, or a rendition name as the broadcaster spells it. */
function quality(value: string): string {
  const q = value.trim();
  if (q === 'auto' || /^[A-Za-z0-9_-]{1,16}$/.test(q)) return q;
  throw new UserError(`--quality must be auto or a rendition name such as 720p, got "${value}"`);
}

/** After the channel ended, how long a player may play out what it holds before it is stopped. */
const PLAYER_END_GRACE_MS = 10_000;
/** A player that fails sooner than this did not start: that is an error, not the user closing it. */
const PLAYER_FAILED_FAST_MS = 3000;

export async function runWatch(args: string[]): Promise<number> {
  const { values, positionals } = parse(
    args,
    {
      ...PEER,
      'http-host': { type: 'string' },
      player: { type: 'string' },
      'upload-limit': { type: 'string' },
      'no-upload': { type: 'boolean' },
      quality: { type: 'string' },
      ...TIMESHIFT_FLAGS,
    },
    1,
  );
  if (values.help) return commandHelp();
  const channel = positionals[0];
  if (channel === undefined) throw new UserError('which channel? usage: meshtv watch <uri|id|name>');
  // A missing player is found out before joining anything.
  const playerName = str(values, 'player') !== undefined ? parsePlayer(str(values, 'player') as string) : undefined;
  const playerPath = playerName !== undefined ? findPlayer(playerName) : undefined;
  const status = new StatusLine(process.stderr);
  const log = logger(values, status);
  const httpPortFlag = str(values, 'http-port');
  const timeshift = timeshiftOption(values);
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
    ...(timeshift !== undefined ? { timeshift } : {}),
    core: uploadPolicy(values),
    network: networkOptions(values),
    log,
  });
  process.stdout.write(`${v.streamUrl}\n`);
  const parts: Stoppable[] = [v];
  const rewind = v.timeshiftUrl !== undefined ? `; pause and rewind: ${v.timeshiftUrl}` : '';
  let player: PlayerProcess | undefined;
  if (playerName !== undefined && playerPath !== undefined) {
    const headless = isHeadless();
    if (headless && playerName === 'ffplay') log.warn('no display (DISPLAY and WAYLAND_DISPLAY unset): ffplay plays the sound only');
    const title = `meshtv ${channel.startsWith('meshtv://') || /^[0-9a-f]{64}$/i.test(channel) ? v.channelId.slice(0, 12) : channel}`;
    player = startPlayer(playerPath, playerArgs(playerName, v.streamUrl, { title, headless }));
    parts.unshift(player);
    log.info(`started ${playerName} on ${v.streamUrl}; HLS: ${v.playlistUrl}; stats: ${v.statsUrl}${rewind}`);
  } else {
    log.info(`play it with: vlc ${v.streamUrl}   (or mpv, ffplay); HLS: ${v.playlistUrl}; stats: ${v.statsUrl}${rewind}`);
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
