// The helper's only way to the terminal: stdout for the one token, redacted stderr for everything else.
import { redact } from '../redact.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface HelperIO {
  /** Raw stdout: only the token (or a command's requested output) ever goes here. */
  stdout(text: string): void;
  /** One diagnostic line; redacted here so no caller can forget to. */
  stderr(line: string): void;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  env: Env;
  cwd: string;
}

export function processIO(): HelperIO {
  return {
    stdout: (text) => {
      process.stdout.write(text);
    },
    stderr: (line) => {
      process.stderr.write(`${redact(line.replace(/\n+$/, ''))}\n`);
    },
    // On first use: process.stdin builds a stream for whatever stdin is (for /dev/null, fs streams
    // and readline: ~30 Node modules on a cold call), and a token call never reads it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
  };
}

/** All of stdin when piped; a no-echo prompt on a terminal. One trailing newline is dropped. */
export async function readSecret(io: HelperIO, prompt: string): Promise<string> {
  const stdin = io.stdin;
  if (stdin.isTTY && stdin.setRawMode) {
    process.stderr.write(prompt);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding?.('utf8');
    try {
      return await new Promise<string>((resolve, reject) => {
        let value = '';
        const onData = (chunk: string) => {
          for (const ch of chunk) {
            if (ch === '\r' || ch === '\n') {
              stdin.off('data', onData);
              process.stderr.write('\n');
              return resolve(value);
            }
            if (ch === '\u0003') {
              stdin.off('data', onData);
              return reject(new Error('cancelled'));
            }
            if (ch === '\u007f') value = value.slice(0, -1);
            else value += ch;
          }
        };
        stdin.on('data', onData);
      });
    } finally {
      stdin.setRawMode(false);
      stdin.pause();
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}
