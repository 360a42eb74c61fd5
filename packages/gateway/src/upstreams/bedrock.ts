// Amazon Bedrock Runtime as an upstream: requests signed with SigV4 using the gateway's AWS credentials.
import { awsCredentialChain, signBedrockRequest, type AwsCredentialProvider } from '@claude-key/api-formats';
import { pools, type Upstream } from './upstream.js';

export function bedrockUpstream(
  name: string,
  opts: { region: string; endpoint?: string; profile?: string; timeoutMs: number; credentials?: AwsCredentialProvider },
): Upstream {
  // One chain per upstream: the AWS SDK provider caches and refreshes the credentials itself.
  let credentials = opts.credentials ?? awsCredentialChain({ profile: opts.profile });
  const pool = pools();
  const baseUrl = opts.endpoint?.replace(/\/$/, '');
  return {
    name,
    kind: 'bedrock',
    timeoutMs: opts.timeoutMs,
    callerCredentials: false,
    deployment: (model) => ({ kind: 'bedrock', model, region: opts.region, ...(baseUrl ? { baseUrl } : {}) }),
    authorize: (request) => signBedrockRequest(request, { region: opts.region, credentials }),
    dispatcher: pool.get,
    credentialRejected() {
      // Refused credentials (rotated keys, an expired session): start the chain afresh.
      if (!opts.credentials) credentials = awsCredentialChain({ profile: opts.profile });
    },
    close: () => pool.close(),
  };
}
