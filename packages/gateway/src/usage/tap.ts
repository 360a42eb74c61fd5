// Reads token usage out of an answer as it streams past, without holding the stream back.
import { StringDecoder } from 'node:string_decoder';
import { emptyUsage, mergeAnthropicUsage, type Usage } from './usage.js';

/** SSE: usage arrives in `message_start` (input, cache) and `message_delta` (cumulative output). */
export class SseUsageTap {
  readonly usage: Usage = emptyUsage();
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';

  feed(chunk: Buffer): void {
    this.pending += this.decoder.write(chunk);
    // Most chunks are text deltas: without "usage" in them only the unfinished last line is kept.
    if (!this.pending.includes('"usage"')) {
      this.pending = this.pending.slice(this.pending.lastIndexOf('\n') + 1);
      return;
    }
    let newline: number;
    while ((newline = this.pending.indexOf('\n')) !== -1) {
      const line = this.pending.slice(0, newline);
      this.pending = this.pending.slice(newline + 1);
      // Only the two event kinds that carry usage are parsed; text deltas pass untouched.
      if (line.startsWith('data:') && line.includes('"usage"')) this.onData(line.slice(5));
    }
  }

  private onData(json: string): void {
    let event: { type?: string; message?: { usage?: Record<string, unknown> }; usage?: Record<string, unknown> };
    try {
      event = JSON.parse(json);
    } catch {
      return;
    }
    if (event.type === 'message_start') mergeAnthropicUsage(this.usage, event.message?.usage);
    else if (event.type === 'message_delta') mergeAnthropicUsage(this.usage, event.usage);
  }
}

/** JSON answers are small; their usage is read once the body is complete. */
export class JsonUsageTap {
  readonly usage: Usage = emptyUsage();
  private readonly chunks: Buffer[] = [];

  feed(chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  finish(): void {
    try {
      const body = JSON.parse(Buffer.concat(this.chunks).toString('utf8')) as { usage?: Record<string, unknown>; input_tokens?: number };
      mergeAnthropicUsage(this.usage, body.usage);
    } catch {
      // An unparseable answer (an upstream error page) simply has no usage.
    }
  }
}
