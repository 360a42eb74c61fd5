import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { requestPath } from './inbound.js';

describe('requestPath', () => {
  const urlPath = (target: string) => {
    try {
      return new URL(target, 'http://gateway.invalid').pathname;
    } catch {
      return target.split('?')[0]; // no URL at all (`//`): the path as sent, matching nothing
    }
  };

  it('gives the WHATWG URL parser\'s path for every target, plain or not', () => {
    const fixed = [
      '/v1/messages', '/v1/messages?beta=true', '/v1/messages/count_tokens?beta=true', '/anthropic/v1/messages',
      '/bedrock/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke-with-response-stream',
      '/bedrock/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Aapplication-inference-profile%2Fabc/invoke',
      '/vertex_ai/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict',
      '//v1/messages', '/v1/../admin/keys', '/v1/./messages', '/v1/%2e%2e/admin', '/v1/%2E/messages', '/v1\\messages',
      '/v1/messages#frag', '/v1/mess ages', '/v1/messages/..', '/v1/.hidden', '/%zz/x', '/a//b', '/a/b/', '/',
      '/v1/messages?x=/../y', '/é/x', '/a"b', '/a<b>', '/a`b', '/a{b}', '/a|b', '/a^b', '//', '///', '//?x',
    ];
    for (const target of fixed) assert.equal(requestPath(target), urlPath(target), target);
  });

  it('agrees with the URL parser on random targets', () => {
    // Characters chosen to hit every rule: dots, percent signs, slashes, escapes, query and fragment.
    const alphabet = ['/', '/', '/', '.', '.', '%', '2', 'e', 'E', 'a', 'Z', '0', '-', '_', '~', ':', '@', '?', '#', '\\', ' ', '"', '{', 'é', '+', '='];
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let i = 0; i < 20_000; i++) {
      let target = '/';
      for (let n = Math.floor(random() * 16); n > 0; n--) target += alphabet[Math.floor(random() * alphabet.length)];
      assert.equal(requestPath(target), urlPath(target), JSON.stringify(target));
    }
  });
});
