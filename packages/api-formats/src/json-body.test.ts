import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CLAUDE_CODE_BODY } from './test-support/anthropic-fixtures.js';
import { editObject, scanObject } from './json-body.js';

const b = (text: string) => Buffer.from(text, 'utf8');

test('scanObject finds only top-level keys, skipping strings with escaped quotes and brackets', () => {
  const layout = scanObject(b('{"a":"x\\"}{[","b":{"c":[1,{"d":"]"}]},"e":1.5e3 , "f" : null}'));
  assert.deepEqual(layout.members.map((m) => m.key), ['a', 'b', 'e', 'f']);
});

test('scanObject handles a string ending in an escaped backslash', () => {
  const layout = scanObject(b('{"a":"ends with \\\\","b":true}'));
  assert.deepEqual(layout.members.map((m) => m.key), ['a', 'b']);
});

test('editObject returns the same buffer when nothing changes', () => {
  const body = b(CLAUDE_CODE_BODY);
  assert.equal(editObject(body, { remove: ['absent'] }), body);
});

test('removing the first, a middle and the last member keeps every other byte', () => {
  const text = '{ "a": 1,\n "b" :[2], "c":{"x":"}"} ,"d":4 }';
  assert.equal(editObject(b(text), { remove: ['a'] }).toString(), '{ "b" :[2], "c":{"x":"}"} ,"d":4 }');
  assert.equal(editObject(b(text), { remove: ['c'] }).toString(), '{ "a": 1,\n "b" :[2], "d":4 }');
  assert.equal(editObject(b(text), { remove: ['d'] }).toString(), '{ "a": 1,\n "b" :[2], "c":{"x":"}"} }');
  assert.equal(editObject(b(text), { remove: ['a', 'b', 'c', 'd'] }).toString(), '{  }');
});

test('set replaces a value in place and inserts absent keys first', () => {
  const text = '{"max_tokens":5,"model":"old","x":{"model":"nested"}}';
  assert.equal(editObject(b(text), { set: { model: 'new' } }).toString(), '{"max_tokens":5,"model":"new","x":{"model":"nested"}}');
  assert.equal(editObject(b(text), { set: { stream: true } }).toString(), '{"stream":true,"max_tokens":5,"model":"old","x":{"model":"nested"}}');
  assert.equal(editObject(b('{}'), { set: { model: 'm' } }).toString(), '{"model":"m"}');
  assert.equal(editObject(b(text), { set: { ignored: undefined } }).toString(), text);
});

test('remove and insert together stay valid JSON, with duplicate keys all removed', () => {
  const text = '{"model":"a","k":1,"model":"b"}';
  const out = editObject(b(text), { remove: ['model'], set: { anthropic_version: 'v' } }).toString();
  assert.equal(out, '{"anthropic_version":"v","k":1}');
});

test('a Claude Code body keeps all unknown fields byte for byte through an edit', () => {
  const out = editObject(b(CLAUDE_CODE_BODY), { remove: ['model', 'stream'], set: { anthropic_version: 'bedrock-2023-05-31' } }).toString();
  for (const field of ['"context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]}', '"temperature": 1.0e0', '"thinking": {"type": "enabled", "budget_tokens": 31999}', '"metadata": {"user_id": "user_abc_account_def_session_123"}', 'ünïcödé \\\\"']) {
    assert.ok(out.includes(field), `missing ${field}`);
  }
  const original = JSON.parse(CLAUDE_CODE_BODY) as Record<string, unknown>;
  const edited = JSON.parse(out) as Record<string, unknown>;
  assert.deepEqual(Object.keys(edited), ['anthropic_version', ...Object.keys(original).filter((k) => k !== 'model' && k !== 'stream')]);
});
