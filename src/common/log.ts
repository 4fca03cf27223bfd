// Leveled logging to stderr, so stdout stays for what the user asked for (URIs, URLs, lists).
// `--log-format json` gives one JSON object per line for log collectors.

import { HIDDEN_CHARACTERS } from './text.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  child(component: string): Logger;
}

/** The part of a Logger that the runtime's drivers write to (a browser tab passes the console). */
export type DriverLog = Pick<Logger, 'debug' | 'warn'>;

export interface LogSink {
  write(line: string): void;
  /** Called before a line is written, e.g. to clear a live status line. */
  beforeWrite?: () => void;
}

/** The characters a channel name may not hold, all of them in a text. */
const HIDDEN_EVERYWHERE = new RegExp(HIDDEN_CHARACTERS.source, 'gu');

/**
 * Text made safe for a terminal: control, format and separator characters (escape sequences,
 * bidi overrides, invisible characters) written as \u{...}, so that nothing from a tracker, a
 * peer or a channel name can move the cursor, recolour the screen or reorder what is shown.
 * Newlines stay unless `oneLine`.
 */
export function forTerminal(text: string, oneLine = false): string {
  return text.replace(HIDDEN_EVERYWHERE, (c) => (c === '\n' && !oneLine ? c : `\\u{${(c.codePointAt(0) as number).toString(16)}}`));
}

export function createLogger(options: { level: LogLevel; format: 'text' | 'json'; component?: string; sink?: LogSink }): Logger {
  const sink = options.sink ?? { write: (line: string) => process.stderr.write(line) };
  const emit = (level: LogLevel, msg: string) => {
    if (ORDER[level] < ORDER[options.level]) return;
    sink.beforeWrite?.();
    if (options.format === 'json') {
      sink.write(`${JSON.stringify({ time: new Date().toISOString(), level, component: options.component, msg })}\n`);
    } else {
      const tag = options.component ? `[${options.component}] ` : '';
      sink.write(`${level === 'info' ? '' : `${level}: `}${tag}${forTerminal(msg)}\n`);
    }
  };
  return {
    debug: (m) => emit('debug', m),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m) => emit('error', m),
    child: (component) =>
      createLogger({ ...options, sink, component: options.component ? `${options.component}/${component}` : component }),
  };
}
