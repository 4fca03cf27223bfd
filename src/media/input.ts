// What a broadcaster can take as input: the test pattern, a file, MPEG-TS on stdin, UDP or SRT
// MPEG-TS, an RTMP push (OBS), RTSP and HTTP(S) HLS/TS pulls; `--input` parsed and checked, and
// how an input is shown in logs (secrets hidden). The ffmpeg command line for each is
// encoding.ts's; running ffmpeg is ingest.ts's. Pure: no I/O.

import { isIP } from 'node:net';
import { UserError } from '../common/errors.js';

export type InputSource =
  | { readonly kind: 'testsrc' }
  | { readonly kind: 'file'; readonly path: string; readonly loop: boolean }
  | { readonly kind: 'stdin' }
  | { readonly kind: 'udp'; readonly url: string }
  | { readonly kind: 'srt'; readonly url: string; readonly listener: boolean }
  | {
      readonly kind: 'rtmp';
      readonly host: string;
      readonly port: number;
      readonly app: string;
      readonly streamKey: string;
      /** The key was not in the URL and was made up: print it for the user. */
      readonly keyGenerated: boolean;
    }
  | { readonly kind: 'http'; readonly url: string }
  | { readonly kind: 'rtsp'; readonly url: string };

const DEFAULT_RTMP_PORT = 1935;
const DEFAULT_RTMP_APP = 'live';

/**
 * Parses `--input`. `makeKey` invents an RTMP stream key when the URL has none.
 * File paths are not checked here (see checkInput in ingest.ts).
 */
export function parseInput(spec: string | undefined, options: { loop: boolean; makeKey: () => string }): InputSource {
  const s = spec?.trim() ?? 'testsrc';
  if (s === '') throw new UserError('--input is empty; give testsrc, a file, -, udp://, srt://, rtmp://, rtsp:// or http(s)://');
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(s)?.[1]?.toLowerCase();
  if (options.loop && (scheme !== undefined || s === 'testsrc' || s === '-')) throw new UserError('--loop applies to a file --input only');
  if (s === 'testsrc') return { kind: 'testsrc' };
  if (s === '-') return { kind: 'stdin' };
  switch (scheme) {
    case undefined:
      return { kind: 'file', path: s.startsWith('file:') ? s.slice(5) : s, loop: options.loop };
    case 'file':
      return { kind: 'file', path: decodeURIComponent(new URL(s).pathname), loop: options.loop };
    case 'udp':
      return { kind: 'udp', url: udpUrl(s) };
    case 'srt':
      return parseSrt(s);
    case 'rtmp':
      return parseRtmp(s, options.makeKey);
    case 'http':
    case 'https':
      return { kind: 'http', url: checkedUrl(s).href };
    case 'rtsp':
      return { kind: 'rtsp', url: checkedUrl(s).href };
    default:
      throw new UserError(`--input ${scheme}:// is not supported; use testsrc, a file, -, udp://, srt://, rtmp://, rtsp:// or http(s)://`);
  }
}

/** True for inputs that end (a file without --loop, stdin): their end is the end of the channel. */
export function endsByItself(source: InputSource): boolean {
  return (source.kind === 'file' && !source.loop) || source.kind === 'stdin';
}

/** True for inputs that wait for someone to send (a push or a socket), rather than fetching. */
export function waitsForSender(source: InputSource): boolean {
  return source.kind === 'stdin' || source.kind === 'udp' || source.kind === 'rtmp' || (source.kind === 'srt' && source.listener);
}

/**
 * The host name ffmpeg would have to look up to open this input (undefined when the input names
 * no host, or an IP address).
 */
export function hostToResolve(source: InputSource): string | undefined {
  let host: string;
  if (source.kind === 'rtmp') host = source.host;
  else if (source.kind === 'http' || source.kind === 'rtsp' || source.kind === 'udp' || source.kind === 'srt') {
    try {
      host = new URL(source.url).hostname;
    } catch {
      return undefined;
    }
  } else return undefined;
  const bare = host.replace(/^\[|\]$/g, '');
  return bare === '' || isIP(bare) !== 0 ? undefined : bare;
}

/** Short human description for logs and errors. */
export function describeInput(source: InputSource): string {
  switch (source.kind) {
    case 'testsrc':
      return 'the test pattern';
    case 'file':
      return `file ${source.path}${source.loop ? ' (looped)' : ''}`;
    case 'stdin':
      return 'MPEG-TS on stdin';
    case 'rtmp':
      return `RTMP push on ${rtmpServerUrl(source)}`;
    case 'udp':
      // Its query holds only the socket options this program added.
      return source.url.replace(/\?.*$/, '');
    default:
      return redactUrl(source.url);
  }
}

/** rtmp://host:port/app, without the stream key: what goes in OBS's "Server" field. */
export function rtmpServerUrl(source: { host: string; port: number; app: string }): string {
  return `rtmp://${source.host.includes(':') ? `[${source.host}]` : source.host}:${source.port}/${source.app}`;
}

/** udp://host:port, with the options live reception needs; a unicast host is bound as the local address. */
function udpUrl(spec: string): string {
  const m = /^udp:\/\/@?(\[[0-9a-f:.]+\]|[^:/?@[\]]*):(\d+)\/?(\?.*)?$/i.exec(spec);
  if (m === null) throw new UserError(`--input ${spec}: expected udp://host:port (e.g. udp://0.0.0.0:1234 or udp://@239.0.0.1:1234)`);
  const host = m[1] as string;
  const port = checkPort(m[2] as string, spec);
  const params = new URLSearchParams((m[3] ?? '').slice(1));
  // A big receive FIFO and tolerance of its overrun: a burst must not kill the input.
  if (!params.has('fifo_size')) params.set('fifo_size', '1000000');
  if (!params.has('overrun_nonfatal')) params.set('overrun_nonfatal', '1');
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare !== '' && bare !== '0.0.0.0' && bare !== '::' && !isMulticast(bare) && !params.has('localaddr')) {
    // Receive on that address only (e.g. 127.0.0.1), not on every interface.
    params.set('localaddr', bare);
  }
  return `udp://${host === '' ? '0.0.0.0' : host}:${port}?${params.toString()}`;
}

function isMulticast(host: string): boolean {
  const first = Number(host.split('.')[0]);
  return (host.includes('.') && first >= 224 && first <= 239) || /^ff[0-9a-f]{2}:/i.test(host);
}

function parseSrt(spec: string): InputSource {
  const m = /^srt:\/\/(\[[0-9a-f:.]+\]|[^:/?@[\]]*):(\d+)\/?(\?.*)?$/i.exec(spec);
  if (m === null) throw new UserError(`--input ${spec}: expected srt://host:port[?mode=listener|caller|rendezvous&...]`);
  checkPort(m[2] as string, spec);
  const mode = new URLSearchParams((m[3] ?? '').slice(1)).get('mode') ?? ((m[1] as string) === '' ? 'listener' : 'caller');
  return { kind: 'srt', url: spec, listener: mode === 'listener' };
}

function parseRtmp(spec: string, makeKey: () => string): InputSource {
  const url = checkedUrl(spec);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new UserError(`--input ${spec}: give the address to listen on, e.g. rtmp://0.0.0.0:1935/live`);
  const port = url.port === '' ? DEFAULT_RTMP_PORT : checkPort(url.port, spec);
  const [app = '', ...rest] = url.pathname.split('/').filter((p) => p !== '');
  const key = rest.join('/');
  for (const [what, value] of [
    ['application name', app],
    ['stream key', key],
  ] as const) {
    if (value !== '' && !/^[A-Za-z0-9._~-]+$/.test(value)) {
      throw new UserError(`--input ${spec}: the ${what} may hold letters, digits and . _ ~ - only`);
    }
  }
  if (key === '') return { kind: 'rtmp', host, port, app: app || DEFAULT_RTMP_APP, streamKey: makeKey(), keyGenerated: true };
  return { kind: 'rtmp', host, port, app, streamKey: key, keyGenerated: false };
}

function checkedUrl(spec: string): URL {
  try {
    return new URL(spec);
  } catch {
    throw new UserError(`--input ${spec} is not a valid URL`);
  }
}

function checkPort(text: string, spec: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UserError(`--input ${spec}: port must be 1-65535`);
  return n;
}

/** Text (an ffmpeg error, say) with every URL in it shown as redactUrl shows it. */
export function redactUrls(text: string): string {
  return text.replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]+/gi, (url) => redactUrl(url));
}

/**
 * A URL as it may be shown (logs, /stats.json): without user info, query or fragment, where
 * inputs carry their secrets (an SRT passphrase=, an HLS ?token=, a user:password@).
 */
export function redactUrl(url: string): string {
  let hidden: boolean;
  let shown: string;
  try {
    const u = new URL(url);
    hidden = u.username !== '' || u.password !== '' || u.search !== '' || u.hash !== '';
    u.username = '';
    u.password = '';
    u.search = '';
    u.hash = '';
    shown = u.toString();
  } catch {
    const bare = url.replace(/\/\/[^/?#]*@/, '//').replace(/[?#].*$/s, '');
    hidden = bare !== url;
    shown = bare;
  }
  return hidden ? `${shown} (credentials and query hidden)` : shown;
}
