// The `aws-credentials` provider: session credentials as JSON for Claude Code's `awsCredentialExport` setting.
import * as z from 'zod';
import { ConfigError, defineProvider, isClaudeKeyError, type ProviderContext } from '@claude-key/core';
import { toClaudeKeyError } from './aws-errors.js';
import { AWS_ENV, awsConnectionOptions, clientSettings, sdkLogger, untilAborted } from './client-config.js';
import { formatCredentialExport, type SessionCredentials } from './credential-export.js';

/**
 * Built on first use, not at import: `claude-key aws` loads this module too (one package, one
 * chunk) and never needs this schema, whose construction is a measurable part of a cold call.
 */
function buildOptions() {
  const connection = awsConnectionOptions();
  return z.object({
    ...connection,
    endpointUrl: connection.endpointUrl.describe('Custom STS endpoint, e.g. a VPC interface endpoint'),
    roleArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)')
      .optional()
      .describe('Role to assume (AssumeRole, or AssumeRoleWithWebIdentity with --web-identity-token)'),
    roleSessionName: z
      .string()
      .regex(/^[\w+=,.@-]{2,64}$/, 'must be 2-64 characters of letters, digits and +=,.@_-')
      .default('claude-key')
      .describe('Session name recorded in CloudTrail'),
    webIdentityToken: z
      .string()
      .min(1)
      .optional()
      .describe('Reference to an OIDC token for AssumeRoleWithWebIdentity, e.g. profile:corp-oidc or file:/path'),
    durationSeconds: z.number().int().min(900).max(43_200).optional().describe('Lifetime of the session credentials in seconds'),
    externalId: z.string().min(2).max(1224).optional().describe("ExternalId the role's trust policy requires"),
  });
}

let options: ReturnType<typeof buildOptions> | undefined;
type Options = z.output<ReturnType<typeof buildOptions>>;
type Sts = typeof import('@aws-sdk/client-sts');

interface StsCredentials {
  AccessKeyId?: string | undefined;
  SecretAccessKey?: string | undefined;
  SessionToken?: string | undefined;
  Expiration?: Date | undefined;
}

function fromStsAnswer(creds: StsCredentials | undefined): SessionCredentials {
  if (!creds?.AccessKeyId || !creds.SecretAccessKey || !creds.SessionToken) {
    throw new ConfigError('STS answered without complete credentials');
  }
  return { accessKeyId: creds.AccessKeyId, secretAccessKey: creds.SecretAccessKey, sessionToken: creds.SessionToken, expiration: creds.Expiration };
}

/** Credentials from the standard chain (env, SSO, shared files, process, web identity file, IMDS/ECS). */
async function chainCredentials(opts: Options, ctx: ProviderContext) {
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  const settings = clientSettings(opts, ctx);
  const provider = fromNodeProviderChain({
    ...(opts.awsProfile ? { profile: opts.awsProfile } : {}),
    logger: settings.logger,
    clientConfig: { ...(settings.region ? { region: settings.region } : {}) },
  });
  return untilAborted(provider(), ctx.signal);
}

async function assumeRoleWithWebIdentity(sts: Sts, opts: Options & { roleArn: string; webIdentityToken: string }, ctx: ProviderContext) {
  const token = await ctx.secret(opts.webIdentityToken).catch((err: unknown) => {
    if (isClaudeKeyError(err)) throw err;
    throw new ConfigError(`cannot resolve --web-identity-token ${opts.webIdentityToken}`, { cause: err });
  });
  // AssumeRoleWithWebIdentity is unsigned: the OIDC token is the proof, no AWS credentials are needed.
  const client = new sts.STSClient(clientSettings(opts, ctx));
  try {
    const answer = await client.send(
      new sts.AssumeRoleWithWebIdentityCommand({
        RoleArn: opts.roleArn,
        RoleSessionName: opts.roleSessionName,
        WebIdentityToken: token,
        ...(opts.durationSeconds ? { DurationSeconds: opts.durationSeconds } : {}),
      }),
      { abortSignal: ctx.signal },
    );
    return fromStsAnswer(answer.Credentials);
  } finally {
    client.destroy();
  }
}

async function signedStsCall(sts: Sts, opts: Options, ctx: ProviderContext): Promise<SessionCredentials> {
  const source = await chainCredentials(opts, ctx);
  if (!opts.roleArn && source.sessionToken) {
    return { accessKeyId: source.accessKeyId, secretAccessKey: source.secretAccessKey, sessionToken: source.sessionToken, expiration: source.expiration };
  }
  const client = new sts.STSClient({ ...clientSettings(opts, ctx), credentials: source });
  try {
    if (opts.roleArn) {
      const answer = await client.send(
        new sts.AssumeRoleCommand({
          RoleArn: opts.roleArn,
          RoleSessionName: opts.roleSessionName,
          ...(opts.durationSeconds ? { DurationSeconds: opts.durationSeconds } : {}),
          ...(opts.externalId ? { ExternalId: opts.externalId } : {}),
        }),
        { abortSignal: ctx.signal },
      );
      return fromStsAnswer(answer.Credentials);
    }
    // Long-term keys carry no session token, and Claude Code requires one: trade them for a session.
    const answer = await client.send(
      new sts.GetSessionTokenCommand({ ...(opts.durationSeconds ? { DurationSeconds: opts.durationSeconds } : {}) }),
      { abortSignal: ctx.signal },
    );
    return fromStsAnswer(answer.Credentials);
  } finally {
    client.destroy();
  }
}

export const awsCredentialsProvider = defineProvider({
  name: 'aws-credentials',
  summary: "Print AWS session credentials as JSON for Claude Code's awsCredentialExport",
  get options() {
    return (options ??= buildOptions());
  },
  examples: [
    'claude-key aws-credentials --aws-profile corp-sso',
    'claude-key aws-credentials --role-arn arn:aws:iam::123456789012:role/bedrock-user',
    'claude-key aws-credentials --role-arn arn:aws:iam::123456789012:role/bedrock-user --web-identity-token profile:corp-oidc',
  ],
  env: [...AWS_ENV, 'AWS_ENDPOINT_URL_STS'],
  secretOptions: ['webIdentityToken'],
  purpose: 'awsCredentialExport',
  identity: (o, id) => ({ inputs: id.options(o, { refs: ['webIdentityToken'] }) }),
  async fetch(opts, ctx) {
    if (opts.webIdentityToken && !opts.roleArn) {
      throw new ConfigError('--web-identity-token needs --role-arn', { hint: 'name the role to assume with the OIDC token' });
    }
    if (opts.externalId && !opts.roleArn) throw new ConfigError('--external-id needs --role-arn');
    const subject = opts.roleArn ? `role ${opts.roleArn}` : 'the AWS credential chain';
    const site = { service: 'STS', subject, ...(opts.awsProfile ? { awsProfile: opts.awsProfile } : {}) };
    try {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      const sts = await import('@aws-sdk/client-sts');
      const creds =
        opts.roleArn && opts.webIdentityToken
          ? await assumeRoleWithWebIdentity(sts, { ...opts, roleArn: opts.roleArn, webIdentityToken: opts.webIdentityToken }, ctx)
          : await signedStsCall(sts, opts, ctx);
      const expiresAt = creds.expiration?.getTime();
      return {
        token: formatCredentialExport(creds),
        ...(expiresAt !== undefined ? { expiresAt } : {}),
        meta: { accessKeyId: creds.accessKeyId, source: opts.roleArn ? (opts.webIdentityToken ? 'web-identity' : 'assume-role') : 'chain' },
      };
    } catch (err) {
      throw toClaudeKeyError(err, site);
    }
  },
});
