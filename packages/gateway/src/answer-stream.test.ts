// The relay on its own: every way a streamed answer can end, and which side each one releases.
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { PrematureCloseError, relay, type RelayHooks } from './answer-stream.js';

/** A client that keeps what it is sent; `highWaterMark` small enough to exercise backpressure. */
function client(opts: { hold?: boolean } = {}) {
  const got: Buffer[] = [];
  let release: (() => void) | undefined;
  const res = new Writable({
    highWaterMark: 4,
    write(chunk: Buffer, _enc, done) {
      got.push(chunk);
      if (opts.hold) release = done;
      else done();
    },
  });
  return { res, got, text: () => Buffer.concat(got).toString(), drain: () => release?.() };
}

function hooks(overrides: Partial<RelayHooks> = {}) {
  const seen: string[] = [];
  let ended = 0;
  const h: RelayHooks = {
    chunk: (c) => void seen.push(c.toString()),
    end: () => void ended++,
    failure: () => Buffer.from('event: error\n\n'),
    ...overrides,
  };
  return { h, seen, ended: () => ended };
}

describe('relay', () => {
  it('passes every chunk, shows each to the hooks first, and ends the answer when the body ends', async () => {
    const source = new PassThrough();
    const c = client();
    const k = hooks();
    const done = relay(source, c.res, k.h);
    source.write('data: a\n\n');
    source.end('data: b\n\n');
    await done;
    assert.equal(c.text(), 'data: a\n\ndata: b\n\n');
    assert.deepEqual(k.seen, ['data: a\n\n', 'data: b\n\n']);
    assert.equal(k.ended(), 1);
    assert.equal(c.res.writableEnded, true);
  });

  it('destroys the upstream body when the client goes away, and rejects', async () => {
    const source = new PassThrough();
    const c = client();
    const done = relay(source, c.res, hooks().h);
    source.write('data: a\n\n');
    c.res.destroy();
    await assert.rejects(done, /client closed/);
    assert.equal(source.destroyed, true, 'the upstream body (and so its connection) is released');
  });

  // An upstream that errors, and one whose body closes with neither an error nor an end.
  const failures: [string, (source: PassThrough) => void, (err: unknown) => boolean][] = [
    ['an upstream error', (source) => source.destroy(new Error('connection reset')), (err) => /connection reset/.test(String(err))],
    ['a body that closes before its end', (source) => source.destroy(), (err) => err instanceof PrematureCloseError],
  ];
  for (const [name, fail, isTheFailure] of failures) {
    it(`turns ${name} into the last chunk and ends the answer normally`, async () => {
      const source = new PassThrough();
      const c = client();
      const errors: unknown[] = [];
      const done = relay(source, c.res, hooks({ failure: (err) => (errors.push(err), Buffer.from('event: error\n\n')) }).h);
      source.write('data: a\n\n');
      fail(source);
      await done;
      assert.equal(c.text(), 'data: a\n\nevent: error\n\n');
      assert.equal(c.res.writableEnded, true);
      assert.equal(errors.length, 1);
      assert.ok(isTheFailure(errors[0]), `the failure hook saw ${String(errors[0])}`);
    });
  }

  it('fails the answer (destroys the client side and rejects) when there is no last chunk to send', async () => {
    const source = new PassThrough();
    const c = client();
    const done = relay(source, c.res, hooks({ failure: () => undefined }).h);
    source.destroy(new Error('gone'));
    await assert.rejects(done, /gone/);
    assert.equal(c.res.destroyed, true);
  });

  it('pauses the upstream body while the client has not drained, and resumes it after', async () => {
    const source = new PassThrough();
    const c = client({ hold: true });
    const done = relay(source, c.res, hooks().h);
    source.write('data: a long first event\n\n');
    await new Promise((r) => setImmediate(r));
    assert.equal(source.isPaused(), true, 'a write over the client buffer pauses the upstream body');
    c.drain();
    await new Promise((r) => setImmediate(r));
    assert.equal(source.isPaused(), false, 'the drain resumes it');
    source.end();
    // Later writes complete at once.
    await new Promise((r) => setImmediate(r));
    c.drain();
    await done;
    assert.equal(c.text(), 'data: a long first event\n\n');
  });
  it('treats a hook that throws as a failure: the upstream body is released and the answer ends with the last chunk', async () => {
    const source = new PassThrough();
    const c = client();
    const done = relay(source, c.res, hooks({ chunk: () => { throw new Error('tap broke'); } }).h);
    source.write('data: a\n\n');
    await done;
    assert.equal(source.destroyed, true);
    assert.equal(c.text(), 'event: error\n\n');
  });
});
