// Reads ffmpeg's stderr as written with `-loglevel level+info`: picks out the line that best
// explains a failure, the codecs of the input's streams, and an RTMP publisher that used the
// wrong application or stream key (ffmpeg's RTMP server only warns about those).
// Pure: text in, events out.

export type FfmpegLogEvent =
  | { readonly type: 'input-stream'; readonly index: number; readonly media: 'video' | 'audio'; readonly codec: string }
  /** An RTMP publisher pushed to another stream key or application than the one we listen for. */
  | { readonly type: 'rtmp-rejected'; readonly what: 'stream key' | 'application'; readonly got: string };

const LINE = /^(?:\[[^\]]* @ 0x[0-9a-f]+\] )?\[(panic|fatal|error|warning|info|verbose|debug|trace)\] (.*)$/;
const STREAM = /^\s*Stream #\d+:(\d+)(?:\[[^\]]*\])?(?:\([^)]*\))?: (Video|Audio): ([\w-]+)/;
const MAX_PARTIAL_CHARS = 4096;

export class FfmpegLog {
  private partial = '';
  private inInput = false;
  private lastError: string | undefined;
  private lastWarning: string | undefined;
  private lastLine: string | undefined;

  /** Feeds stderr text; returns the events of the complete lines in it. */
  push(text: string): FfmpegLogEvent[] {
    const lines = (this.partial + text).split(/\r?\n|\r/);
    this.partial = (lines.pop() ?? '').slice(-MAX_PARTIAL_CHARS);
    const out: FfmpegLogEvent[] = [];
    for (const line of lines) this.line(line, out);
    return out;
  }

  /** Ends the stream: a last line without a newline counts too. */
  end(): FfmpegLogEvent[] {
    const out: FfmpegLogEvent[] = [];
    if (this.partial !== '') this.line(this.partial, out);
    this.partial = '';
    return out;
  }

  /** The line that best explains a failure: the last error, else the last warning, else the last line. */
  explanation(): string | undefined {
    return this.lastError ?? this.lastWarning ?? this.lastLine;
  }

  private line(raw: string, out: FfmpegLogEvent[]): void {
    if (raw.trim() === '') return;
    const m = LINE.exec(raw);
    const level = m?.[1];
    const text = (m === null ? raw : (m[2] as string)).trim();
    if (text === '' || text.startsWith('Last message repeated')) return;
    if (level === 'panic' || level === 'fatal' || level === 'error') this.lastError = text;
    else if (level === 'warning') this.lastWarning = text;
    this.lastLine = text;

    if (/^Input #\d+/.test(text)) this.inInput = true;
    else if (/^(Output #\d+|Stream mapping:)/.test(text)) this.inInput = false;
    const s = this.inInput ? STREAM.exec(text) : null;
    if (s !== null) {
      out.push({ type: 'input-stream', index: Number(s[1]), media: s[2] === 'Video' ? 'video' : 'audio', codec: s[3] as string });
    }
    const key = /^Unexpected stream (.*), expecting /.exec(text);
    if (key !== null) out.push({ type: 'rtmp-rejected', what: 'stream key', got: key[1] as string });
    const app = /^App field don't match up: (.*) <-> /.exec(text);
    if (app !== null) out.push({ type: 'rtmp-rejected', what: 'application', got: app[1] as string });
  }
}
