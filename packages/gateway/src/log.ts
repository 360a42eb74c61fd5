// Structured JSON log lines on stdout; callers pass ids and facts, never tokens or bodies.
//
// Lines are buffered: a `write` to stdout is a system call (synchronous for files and pipes on
// Linux) that wakes whatever reads the log, and one per request was about 5% of the event loop's
// CPU at 500 req/s. Buffered lines go out together every FLUSH_MS or once FLUSH_BYTES collect, at
// once with any warning or error (so problems are never held back and order is kept), and
// synchronously when the process exits. What a SIGKILL can take is the last FLUSH_MS of info
// lines; the request records themselves are in the journal, not in the log.

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export const FLUSH_MS = 100;
export const FLUSH_BYTES = 16 * 1024;

/** What every buffered writer still holds goes out when the process exits (one listener for all). */
const atExit = new Set<() => void>();
let exitListener = false;

/** A writer that holds lines for up to FLUSH_MS; `urgent` lines take everything held out at once. */
export function bufferedWriter(out: (text: string) => void): (line: string, urgent: boolean) => void {
  let held = '';
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!held) return;
    const text = held;
    held = '';
    out(text);
  };
  atExit.add(flush);
  if (!exitListener) {
    exitListener = true;
    process.once('exit', () => {
      for (const f of atExit) f();
    });
  }
  return (line, urgent) => {
    held += line;
    if (urgent || held.length >= FLUSH_BYTES) flush();
    else timer ??= setTimeout(flush, FLUSH_MS).unref();
  };
}

export function createLogger(level: LogLevel, write?: (line: string) => void): Logger {
  const min = RANK[level];
  const emit = write ? (line: string, _urgent: boolean) => write(line) : bufferedWriter((text) => process.stdout.write(text));
  const at = (lvl: Exclude<LogLevel, 'silent'>) => (msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    emit(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields })}\n`, RANK[lvl] >= RANK.warn);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
