// The tracker's HTTP plumbing: typed refusals (HttpError), size-capped body reading, the request
// target as a URL, and replies (JSON, or RawBody for anything else).

import type http from 'node:http';

export const MAX_BODY_BYTES = 16 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Counted in /metrics under this reason (meshtv_tracker_refused_total). */
    readonly reason = 'bad-request',
  ) {
    super(message);
  }
}

/** A reply that is not JSON. */
export class RawBody {
  constructor(
    readonly contentType: string,
    readonly body: Uint8Array,
    readonly headers: Record<string, string> = {},
  ) {}
}

export function requestPath(req: http.IncomingMessage): string | undefined {
  try {
    return requestUrl(req).pathname;
  } catch {
    return undefined;
  }
}

/** The request target as a URL; throws a 400 for one that cannot be parsed. */
export function requestUrl(req: http.IncomingMessage): URL {
  const target = req.url ?? '/';
  // Concatenated rather than resolved: a path such as "//x" must not be read as a host name.
  try {
    return new URL(`http://request${target.startsWith('/') ? '' : '/'}${target}`);
  } catch {
    throw new HttpError(400, 'malformed request target');
  }
}

export async function readBody(req: http.IncomingMessage, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new HttpError(413, `body larger than ${maxBytes} bytes`);
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > maxBytes) throw new HttpError(413, `body larger than ${maxBytes} bytes`);
    parts.push(part);
  }
  return new Uint8Array(Buffer.concat(parts));
}

export async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const body = await readBody(req, MAX_BODY_BYTES);
  try {
    return JSON.parse(Buffer.from(body).toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

export function reply(res: http.ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  if (body instanceof RawBody) {
    res.writeHead(status, {
      ...body.headers,
      'content-type': body.contentType,
      'content-length': body.body.length,
      'cache-control': 'no-cache',
    });
    res.end(body.body);
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    // After a refused body, do not keep reading what is left of it.
    ...(status === 413 ? { connection: 'close' } : {}),
  });
  res.end(text);
}
