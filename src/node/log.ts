// Leveled logging to stderr, so stdout stays for what the user asked for (URIs, URLs, lists).
// `--log-format json` gives one JSON object per line for log collectors.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  child(component: string): Logger;
}

export interface LogSink {
  write(line: string): void;
  /** Called before a line is written, e.g. to clear a live status line. */
  beforeWrite?: () => void;
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
      sink.write(`${level === 'info' ? '' : `${level}: `}${tag}${msg}\n`);
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
