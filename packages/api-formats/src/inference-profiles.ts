// Answers Bedrock's ListInferenceProfiles (`GET /inference-profiles`), which Claude Code calls at start-up.

import { canonicalModelKey } from './models.js';

export interface InferenceProfileEntry {
  /** The id clients send, e.g. `us.anthropic.claude-sonnet-4-5-20250929-v1:0`. */
  id: string;
  /** Display name; defaults to the id's model key. */
  name?: string;
}

export interface InferenceProfilesOptions {
  region: string;
  /** Twelve digits; the ARNs are informational, so a placeholder is fine. */
  accountId?: string;
  /** Shown as every profile's createdAt/updatedAt. */
  createdAt?: Date;
}

/** The JSON body (`{"inferenceProfileSummaries":[...]}`), filtered by the `type` query parameter. */
export function inferenceProfilesBody(entries: InferenceProfileEntry[], query: URLSearchParams, options: InferenceProfilesOptions): Buffer {
  const type = query.get('type');
  // Every profile the gateway lists behaves like a system-defined (cross-region) profile.
  const listed = type && type !== 'SYSTEM_DEFINED' ? [] : entries;
  const account = options.accountId ?? '000000000000';
  const at = (options.createdAt ?? new Date(0)).toISOString();
  const summaries = listed.map((entry) => {
    const model = canonicalModelKey(entry.id);
    return {
      inferenceProfileName: entry.name ?? model,
      description: `${model} through claude-key-gateway`,
      createdAt: at,
      updatedAt: at,
      inferenceProfileArn: `arn:aws:bedrock:${options.region}:${account}:inference-profile/${entry.id}`,
      models: [{ modelArn: `arn:aws:bedrock:${options.region}::foundation-model/${entry.id.replace(/^[a-z-]+\.(?=anthropic\.)/, '')}` }],
      inferenceProfileId: entry.id,
      status: 'ACTIVE',
      type: 'SYSTEM_DEFINED',
    };
  });
  return Buffer.from(JSON.stringify({ inferenceProfileSummaries: summaries }));
}
