// Relays a streamed answer from the upstream's body to the client, releasing both sides on any
// failure, the way stream.pipeline would, for a fraction of its cost per answer.
//
// - The client goes away (its response closes before it finished): the upstream body is
//   destroyed, which releases its connection and stops the upstream's work.
// - The upstream fails or its body closes before its end: once bytes are out the answer cannot
//   become an HTTP error, so the caller's `failure` gives a last chunk in the client's own framing
//   and the answer ends normally; with nobody left to read it, the promise rejects instead.
// - Backpressure: a write the client has not drained pauses the upstream body until it has.
//
// Why not stream.pipeline: per answer it builds an AbortController and aborts it when done (a
// DOMException with a captured stack), an end-of-stream watcher per stream and pipe()'s listeners,
// and the promise API adds its own. With one or two chunks per answer that fixed cost was a quarter
// of the gateway's CPU per streamed answer (docs/benchmarks.md). Four listeners do the same job here;
// answer-stream.test.ts checks each release, stream-release.test.ts the same through the gateway.
import type { Readable, Writable } from 'node:stream';

export interface RelayHooks {
  /** Sees each chunk before the client does (usage is counted from what the client was sent). */
  chunk(chunk: Buffer): void;
  /** The upstream body ended normally, before the answer ends. */
  end?(): void;
  /** The upstream failed: the answer's last chunk, or undefined when nobody is left to send it to. */
  failure(err: unknown): Buffer | undefined;
}

export class PrematureCloseError extends Error {
  constructor() {
    super('The upstream body closed before its end.');
  }
}

/** Resolves once the answer has ended normally; rejects when the client went away first. */
export function relay(source: Readable, res: Writable, hooks: RelayHooks): Promise<void> {
  return new Promise((resolve, reject) => {
    const resume = () => source.resume();
    const onData = (chunk: Buffer) => {
      try {
        hooks.chunk(chunk);
      } catch (err) {
        return onError(err);
      }
      if (!res.write(chunk)) {
        source.pause();
        res.once('drain', resume);
      }
    };
    const detach = () => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      source.off('close', onSourceClose);
      res.off('close', onClientClose);
      res.off('drain', resume);
    };
    const onEnd = () => {
      detach();
      hooks.end?.();
      res.end();
      resolve();
    };
    const onError = (err: unknown) => {
      detach();
      source.destroy(); // already so when the body failed; not when a hook did
      const last = res.destroyed ? undefined : hooks.failure(err);
      if (last) {
        res.end(last);
        return resolve();
      }
      res.destroy();
      reject(err);
    };
    const onSourceClose = () => onError(new PrematureCloseError());
    const onClientClose = () => {
      detach();
      source.destroy();
      reject(new Error('The client closed the connection before the answer ended.'));
    };
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
    source.once('close', onSourceClose);
    res.once('close', onClientClose);
  });
}
