// Reads the request body into memory under the size limit (the bytes are later forwarded untouched),
// and closes a connection whose body is refused unread without losing the refusal.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tooLarge } from './errors.js';

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', reject);
  });
}

/** How long a refused request's unread body is still read (and dropped) before the connection is cut. */
export const LINGER_MS = 2_000;

/**
 * Marks the answer to a request whose body was not (fully) read as the connection's last, and
 * closes it the way Apache's lingering close does: send the answer, half-close, keep reading and
 * dropping what the client still sends for at most `LINGER_MS`, then cut. Closing at once with
 * unread bytes makes the kernel send a reset, and a client still busy sending its body can lose
 * the 401 it was sent, so Claude Code would never learn to re-run its helper.
 */
export function closeAfterAnswer(req: IncomingMessage, res: ServerResponse): Record<string, string> {
  if (req.complete) return {};
  const socket = req.socket as IncomingMessage['socket'] & { destroySoon?: () => void };
  socket.destroySoon = function lingeringClose(this: typeof socket) {
    this.end();
    const timer = setTimeout(() => this.destroy(), LINGER_MS).unref();
    this.once('close', () => clearTimeout(timer));
  };
  res.once('finish', () => req.resume());
  return { connection: 'close' };
}
