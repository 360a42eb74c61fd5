// Shared AWS client settings (region, profile, endpoint) and the option fields both providers accept.
import * as z from 'zod';
import type { ProviderContext } from '@claude-key/core';

/** Option fields common to `aws` and `aws-credentials` (made when a provider builds its schema, not at import). */
export const awsConnectionOptions = () => ({
  region: z.string().min(1).optional().describe('AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the AWS profile)'),
  awsProfile: z
    .string()
    .min(1)
    .optional()
    .describe('AWS shared-config profile for the credential chain (default: AWS_PROFILE); not the claude-key --profile'),
  endpointUrl: z.url({ protocol: /^https?$/ }).optional().describe('Custom endpoint, e.g. a VPC interface endpoint (https://vpce-….amazonaws.com)'),
});

/**
 * Environment that changes which identity, region or endpoint the SDK uses. Part of the cache key
 * so switching any of them never serves a value fetched under other settings. Secrets
 * (AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN) are left out: the access key id already tells them apart.
 */
export const AWS_ENV = [
  'AWS_PROFILE',
  'AWS_DEFAULT_PROFILE',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'AWS_ACCESS_KEY_ID',
  'AWS_CONFIG_FILE',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_ROLE_ARN',
  'AWS_WEB_IDENTITY_TOKEN_FILE',
  'AWS_ENDPOINT_URL',
] as const;

export interface ConnectionOptions {
  region?: string | undefined;
  awsProfile?: string | undefined;
  endpointUrl?: string | undefined;
}

/**
 * The SDK prints a Node-version deprecation notice on stderr the first time a client is built.
 * Claude Code may show a helper's stderr to the user, so the notice is switched off for this
 * process unless the user set the variable themselves.
 */
function silenceSdkNodeVersionNotice(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/**
 * Routes the SDK's own log lines (e.g. its "both AWS_PROFILE and AWS_ACCESS_KEY_ID are set"
 * console warning) to --verbose output instead of stderr.
 */
export function sdkLogger(ctx: ProviderContext) {
  const toDebug = (...parts: unknown[]) => ctx.log.debug(`aws sdk: ${parts.map(String).join(' ').split('\n')[0]}`);
  // info and error carry whole command records (filtered by the SDK, but not useful on one line): dropped.
  return { trace: () => {}, debug: () => {}, info: () => {}, warn: toDebug, error: () => {} };
}

/** Constructor settings for an SDK client; the SDK's own chain fills whatever is left unset. */
export function clientSettings(options: ConnectionOptions, ctx: ProviderContext) {
  silenceSdkNodeVersionNotice();
  // The JS SDK ignores AWS_DEFAULT_REGION; the AWS CLI honours it, so users expect it to work.
  const region = options.region ?? ctx.env.AWS_REGION ?? ctx.env.AWS_DEFAULT_REGION;
  return {
    logger: sdkLogger(ctx),
    ...(region ? { region } : {}),
    ...(options.awsProfile ? { profile: options.awsProfile } : {}),
    ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
  };
}

/** Rejects as soon as the deadline fires, for SDK steps that take no abort signal (the credential chain). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason ?? new DOMException('aborted', 'AbortError'));
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
