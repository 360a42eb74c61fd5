// SigV4-signs a Bedrock Runtime request with the gateway's own AWS credentials (proxy-specified credentials).

import { AuthError, UnreachableError, isNetworkError } from '@claude-key/core';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import type { UpstreamRequest } from './types.js';

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

/** Resolves credentials; providers from @aws-sdk/credential-providers cache and refresh on their own. */
export type AwsCredentialProvider = () => Promise<AwsCredentials>;

/** Bedrock Runtime's SigV4 signing name (the endpoint is bedrock-runtime, the service is bedrock). */
export const BEDROCK_SIGNING_NAME = 'bedrock';

/**
 * Node's native SHA-256, as the AWS SDK itself uses in Node. The pure-JS @aws-crypto/sha256-js
 * needs ~0.8-1.4 ms to hash an 85 KB Claude Code body here, node:crypto ~0.05 ms
 * (bench/translate.bench.ts); the signature is over the body, so this is per request.
 */
const NodeSha256 = Hash.bind(null, 'sha256');

/**
 * The standard AWS chain (env, SSO, shared files, web identity, ECS/EC2 roles), loaded on first
 * use so a gateway without Bedrock deployments never imports the AWS SDK.
 */
export function awsCredentialChain(options: { profile?: string } = {}): AwsCredentialProvider {
  let provider: AwsCredentialProvider | undefined;
  return async () => {
    if (!provider) {
      const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
      provider = fromNodeProviderChain(options.profile ? { profile: options.profile } : {});
    }
    try {
      return await provider();
    } catch (err) {
      if (isNetworkError(err)) throw new UnreachableError('could not reach the AWS credential source for Bedrock', { cause: err });
      const name = (err as { name?: unknown }).name;
      throw new AuthError(`no usable AWS credentials for Bedrock (${typeof name === 'string' ? name : 'unknown error'})`, {
        hint: 'configure the AWS credential chain (AWS_PROFILE, role, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY) for the gateway',
        cause: err,
      });
    }
  };
}

export interface SignOptions {
  region: string;
  credentials: AwsCredentials | AwsCredentialProvider;
  /** The signing time; defaults to now. Tests pin it. */
  signingDate?: Date;
}

/** Returns `request` with `host`, `x-amz-date`, `x-amz-content-sha256`, `authorization` (and `x-amz-security-token`) set. */
export async function signBedrockRequest(request: UpstreamRequest, options: SignOptions): Promise<UpstreamRequest> {
  const url = new URL(request.url);
  const signer = new SignatureV4({
    service: BEDROCK_SIGNING_NAME,
    region: options.region,
    credentials: options.credentials,
    sha256: NodeSha256,
    // Bedrock is not S3: the canonical path is the sent (already encoded) path, encoded again.
    uriEscapePath: true,
  });
  const query: Record<string, string> = {};
  url.searchParams.forEach((value, key) => {
    query[key] = value;
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query,
      headers: { ...request.headers, host: url.host },
      body: request.body,
    },
    options.signingDate ? { signingDate: options.signingDate } : {},
  );
  return { ...request, headers: signed.headers as Record<string, string> };
}
