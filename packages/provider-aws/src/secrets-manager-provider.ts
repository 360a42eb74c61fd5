// The `aws` provider: reads a token from AWS Secrets Manager with GetSecretValue.
import * as z from 'zod';
import { defineProvider, type ProviderContext } from '@claude-key/core';
import { toClaudeKeyError, type AwsCallSite } from './aws-errors.js';
import { AWS_ENV, awsConnectionOptions, clientSettings, type ConnectionOptions } from './client-config.js';
import type { GetSecretValueAnswer, GetSecretValueInput } from './lean-get-secret-value.js';
import { secretToToken } from './secret-value.js';

/**
 * Built on first use, not at import: a plain call (the plain-call bundle) checks its flags against
 * this schema's plain description, made at build time, and never needs the schema itself.
 */
const buildOptions = () =>
  z.object({
    secretId: z.string().min(1).max(2048).describe('Secret name or ARN'),
    jsonKey: z.string().min(1).optional().describe('Print this field of a JSON secret instead of the whole value'),
    versionStage: z.string().min(1).max(256).optional().describe('Staging label to read (default AWSCURRENT)'),
    versionId: z.string().min(32).max(64).optional().describe('Exact version id to read'),
    ...awsConnectionOptions(),
  });

let options: ReturnType<typeof buildOptions> | undefined;

export const secretsManagerProvider = defineProvider({
  name: 'aws',
  summary: 'Read the token from AWS Secrets Manager',
  get options() {
    return (options ??= buildOptions());
  },
  examples: [
    'claude-key aws --secret-id prod/anthropic-api-key',
    'claude-key aws --secret-id prod/llm --json-key apiKey --region eu-west-1',
    'claude-key aws --secret-id prod/llm --aws-profile corp-sso --version-stage AWSPREVIOUS',
  ],
  env: [...AWS_ENV, 'AWS_ENDPOINT_URL_SECRETS_MANAGER'],
  identity: (o, id) => ({ inputs: id.options(o, {}) }),
  async fetch(opts, ctx) {
    const label = `secret "${opts.secretId}"`;
    const site: AwsCallSite = { service: 'Secrets Manager', subject: label, ...(opts.awsProfile ? { awsProfile: opts.awsProfile } : {}) };
    const input: GetSecretValueInput = {
      SecretId: opts.secretId,
      ...(opts.versionStage ? { VersionStage: opts.versionStage } : {}),
      ...(opts.versionId ? { VersionId: opts.versionId } : {}),
    };
    try {
      const { leanPlan, leanGetSecretValue } = await import('./lean-get-secret-value.js');
      const plan = leanPlan(opts, ctx.env);
      let answer: GetSecretValueAnswer;
      if (plan) {
        // Named in not-found and unreachable messages: a secret in another region reads as missing.
        site.region = plan.region;
        ctx.log.debug(`aws: env credentials, ${plan.region}: signed request without the SDK client`);
        answer = await leanGetSecretValue(plan, input, ctx.signal);
      } else {
        answer = await sdkGetSecretValue(opts, ctx, site, input);
      }
      const { token, encoding } = secretToToken(answer, opts.jsonKey, label);
      return {
        token,
        meta: {
          ...(answer.VersionId ? { versionId: answer.VersionId } : {}),
          ...(answer.VersionStages?.length ? { versionStages: answer.VersionStages.join(',') } : {}),
          ...(answer.SecretBinary !== undefined ? { binaryEncoding: encoding } : {}),
        },
      };
    } catch (err) {
      throw toClaudeKeyError(err, site);
    }
  },
});

/** The SDK client, for everything leanPlan() leaves to it: profiles, SSO, web identity, IMDS, the config file's endpoints. */
async function sdkGetSecretValue(opts: ConnectionOptions, ctx: ProviderContext, site: AwsCallSite, input: GetSecretValueInput): Promise<GetSecretValueAnswer> {
  const { SecretsManagerClient, GetSecretValueCommand } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient(clientSettings(opts, ctx));
  try {
    const region = await client.config.region().catch(() => undefined);
    if (region) site.region = region;
    return await client.send(new GetSecretValueCommand(input), { abortSignal: ctx.signal });
  } finally {
    client.destroy();
  }
}
