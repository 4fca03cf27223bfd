// `meshtv demo`: a tracker, a test-pattern channel and two viewers in one process, to try meshtv.

import os from 'node:os';
import path from 'node:path';
import { watchPageUrl } from '../api/channel-uri.js';
import { UserError } from '../common/errors.js';
import { startBroadcast } from '../native/broadcaster.js';
import { startViewer } from '../native/viewer.js';
import { startTracker } from '../tracker/server.js';
import { commandHelp, parse, str } from './args.js';
import { logger, port } from './peer-flags.js';
import { Shutdown, type Stoppable } from './shutdown.js';
import { StatusLine } from './status-line.js';

export async function runDemo(args: string[]): Promise<number> {
  const { values } = parse(args, { port: { type: 'string' }, 'http-port': { type: 'string' }, key: { type: 'string' } });
  if (values.help) return commandHelp();
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
        `  web page:    ${watchPageUrl(tracker.url, b.channelId)}   (all channels: ${tracker.url}/)`,
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
