// Reads token usage out of an answer as it streams past, without holding the stream back.
import { StringDecoder } from 'node:string_decoder';
import { emptyUsage, mergeAnthropicUsage, type Usage } from './usage.js';

/**
 * SSE: usage arrives in `message_start` (input, cache) and `message_delta` (cumulative output).
 * Until `message_delta` comes, output tokens are estimated from the deltas already passed on
 * (text, thinking and tool-input characters / 4, at least one per delta), so an answer cut off
 * by a client that went away is charged for what it was sent, not for nothing.
 */
export class SseUsageTap {
  readonly usage: Usage = emptyUsage();
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private deltas = 0;
  private deltaChars = 0;
  private final = false;

  feed(chunk: Buffer): void {
    // Lines are found by index in one string, and only the few that can carry usage are cut out.
    const text = this.pending + this.decoder.write(chunk);
    let start = 0;
    let newline: number;
    while ((newline = text.indexOf('\n', start)) !== -1) {
      if (text.startsWith('data:', start)) {
        const json = text.slice(start + 5, newline);
        if (json.includes('"usage"')) this.onData(json);
        else if (!this.final && json.includes('"content_block_delta"')) this.onDelta(json);
      }
      start = newline + 1;
    }
    this.pending = start === 0 ? text : text.slice(start);
  }

  private onDelta(json: string): void {
    let delta: { text?: unknown; thinking?: unknown; partial_json?: unknown } | undefined;
    try {
      delta = (JSON.parse(json) as { delta?: typeof delta }).delta;
    } catch {
      return;
    }
    const text = delta?.text ?? delta?.thinking ?? delta?.partial_json;
    this.deltas++;
    this.deltaChars += typeof text === 'string' ? text.length : 0;
    this.usage.outputTokens = Math.max(this.usage.outputTokens, this.deltas, Math.ceil(this.deltaChars / 4));
  }

  private onData(json: string): void {
    let event: { type?: string; message?: { usage?: Record<string, unknown> }; usage?: Record<string, unknown> };
    try {
      event = JSON.parse(json);
    } catch {
      return;
    }
    if (event.type === 'message_start') mergeAnthropicUsage(this.usage, event.message?.usage);
    else if (event.type === 'message_delta') {
      this.final = true; // the upstream's own count replaces the estimate
      mergeAnthropicUsage(this.usage, event.usage);
    }
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
