import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inferenceProfilesBody } from './inference-profiles.js';

const entries = [{ id: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' }, { id: 'us.anthropic.claude-haiku-4-5-20251001-v1:0', name: 'Haiku' }];

test('lists each routed Bedrock id as an ACTIVE system-defined profile in ListInferenceProfiles shape', () => {
  const body = JSON.parse(inferenceProfilesBody(entries, new URLSearchParams('type=SYSTEM_DEFINED'), { region: 'us-east-1', accountId: '123456789012' }).toString()) as {
    inferenceProfileSummaries: Array<Record<string, unknown>>;
  };
  assert.equal(body.inferenceProfileSummaries.length, 2);
  const [sonnet, haiku] = body.inferenceProfileSummaries;
  assert.equal(sonnet!['inferenceProfileId'], 'us.anthropic.claude-sonnet-4-5-20250929-v1:0');
  assert.equal(sonnet!['inferenceProfileArn'], 'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0');
  assert.deepEqual(sonnet!['models'], [{ modelArn: 'arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0' }]);
  assert.equal(sonnet!['inferenceProfileName'], 'claude-sonnet-4-5-20250929');
  assert.deepEqual([sonnet!['status'], sonnet!['type']], ['ACTIVE', 'SYSTEM_DEFINED']);
  assert.equal(haiku!['inferenceProfileName'], 'Haiku');
});

test('asking for APPLICATION profiles lists none', () => {
  const body = JSON.parse(inferenceProfilesBody(entries, new URLSearchParams('type=APPLICATION'), { region: 'us-east-1' }).toString()) as { inferenceProfileSummaries: unknown[] };
  assert.deepEqual(body.inferenceProfileSummaries, []);
});
