import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@claude-key/core';
import { canonicalModelKey, createModelResolver } from './models.js';

test('Bedrock ids, ARNs, Vertex and Anthropic names of one model share a key', () => {
  const names = [
    'claude-sonnet-4-5-20250929',
    'claude-sonnet-4-5@20250929',
    'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'eu.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'apac.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'us-gov.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'anthropic.claude-sonnet-4-5-20250929-v1:0',
    'anthropic.claude-sonnet-4-5-20250929-v1',
    'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0',
    'Claude-Sonnet-4-5-20250929',
  ];
  for (const name of names) assert.equal(canonicalModelKey(name), 'claude-sonnet-4-5-20250929', name);
});

test('undated ids, as Claude Code 2.1.328 sends them, reduce the same way', () => {
  for (const name of ['us.anthropic.claude-opus-5-5', 'claude-opus-5-5', 'global.anthropic.claude-opus-5-5-v1:0']) {
    assert.equal(canonicalModelKey(name), 'claude-opus-5-5', name);
  }
});

test('names without a Bedrock prefix keep their -vN part; application profiles stay whole', () => {
  assert.equal(canonicalModelKey('claude-3-5-sonnet-v2@20241022'), 'claude-3-5-sonnet-v2-20241022');
  const app = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123';
  assert.equal(canonicalModelKey(app), app);
});

test('the resolver maps every spelling to its group and unknown names to undefined', () => {
  const resolve = createModelResolver([
    { name: 'sonnet', aliases: ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'] },
    { name: 'haiku', aliases: ['claude-haiku-4-5@20251001', 'arn:aws:bedrock:us-east-1:1:application-inference-profile/h1'] },
  ]);
  assert.equal(resolve('us.anthropic.claude-sonnet-4-5-20250929-v1:0'), 'sonnet');
  assert.equal(resolve('claude-sonnet-4-5@20250929'), 'sonnet');
  assert.equal(resolve('claude-sonnet-4-5'), 'sonnet');
  assert.equal(resolve('sonnet'), 'sonnet');
  assert.equal(resolve('global.anthropic.claude-haiku-4-5-20251001-v1:0'), 'haiku');
  assert.equal(resolve('arn:aws:bedrock:us-east-1:1:application-inference-profile/h1'), 'haiku');
  assert.equal(resolve('claude-opus-4-1'), undefined);
});

test('two groups claiming one model is a ConfigError', () => {
  assert.throws(
    () => createModelResolver([{ name: 'a', aliases: ['claude-x-20250101'] }, { name: 'b', aliases: ['us.anthropic.claude-x-20250101-v1:0'] }]),
    (err: unknown) => err instanceof ConfigError && /belongs to both a and b/.test(err.message),
  );
});
