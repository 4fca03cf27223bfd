// The viewer's timeshift routes: /timeshift.m3u8 (the whole window, for players that pause and
// rewind) and /timeshift/<n>.ts, served from disk with byte ranges (players that resume a
// segment, or probe its length, ask for part of it). /live.m3u8 keeps its short window.

import fs from 'node:fs';
import type http from 'node:http';
import { servePlaylist } from './http-output.js';
import type { TimeshiftStore } from './timeshift-store.js';

const PLAYLIST_PATH = '/timeshift.m3u8';
const SEGMENT_PATH = /^\/timeshift\/(\d{1,15})\.ts$/;

export function timeshiftRoutes(store: TimeshiftStore): {
  handle(path: string, req: http.IncomingMessage, res: http.ServerResponse): boolean;
} {
  return {
    handle(path, req, res) {
      if (path === PLAYLIST_PATH) servePlaylist(store, req, res);
      else if (SEGMENT_PATH.test(path)) serveSegment(store, Number(SEGMENT_PATH.exec(path)?.[1]), req, res);
      else return false;
      return true;
    },
  };
}

/**
 * One `bytes=` range of a resource of `size` bytes (RFC 9110 §14.1.2): [start, end] inclusive,
 * 'whole' without a usable Range header, 'unsatisfiable' for one that lies outside.
 */
export function byteRange(header: string | undefined, size: number): { start: number; end: number } | 'whole' | 'unsatisfiable' {
  // Several ranges at once are allowed to be answered whole (§14.2); players ask for one.
  const m = header === undefined ? null : /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === '' && m[2] === '')) return 'whole';
  if (m[1] === '') {
    const suffix = Number(m[2]);
    return suffix === 0 || size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  return start >= size || end < start ? 'unsatisfiable' : { start, end };
}

function serveSegment(store: TimeshiftStore, sequence: number, req: http.IncomingMessage, res: http.ServerResponse): void {
  const file = store.file(sequence);
  if (file === undefined) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end(`segment ${sequence} is not (or no longer) in the timeshift window\n`);
    return;
  }
  const range = byteRange(req.headers.range, file.bytes);
  if (range === 'unsatisfiable') {
    res.writeHead(416, { 'content-range': `bytes */${file.bytes}` }).end();
    return;
  }
  const { start, end } = range === 'whole' ? { start: 0, end: file.bytes - 1 } : range;
  const headers = {
    'content-type': 'video/mp2t',
    'content-length': end - start + 1,
    'accept-ranges': 'bytes',
    'cache-control': 'no-cache',
    ...(range === 'whole' ? {} : { 'content-range': `bytes ${start}-${end}/${file.bytes}` }),
  };
  if (req.method === 'HEAD') {
    res.writeHead(range === 'whole' ? 200 : 206, headers).end();
    return;
  }
  // Opened before the headers go: the window may have deleted it since it was looked up.
  const stream = fs.createReadStream(file.path, { start, end });
  stream.once('open', () => {
    res.writeHead(range === 'whole' ? 200 : 206, headers);
    stream.pipe(res);
  });
  stream.once('error', () => {
    if (!res.headersSent) res.writeHead(404, { 'content-type': 'text/plain' }).end(`segment ${sequence} has just left the window\n`);
    else res.destroy();
  });
  res.once('close', () => stream.destroy());
}
