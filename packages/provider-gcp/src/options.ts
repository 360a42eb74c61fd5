// The gcp provider's options: what to mint (access token, ID token, Secret Manager secret) and how.
import * as z from 'zod';

export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

const SECRET_VERSION_NAME = /^projects\/[^/]+\/(locations\/[^/]+\/)?secrets\/[^/]+\/versions\/[^/]+$/;

export const gcpOptions = z
  .object({
    kind: z
      .enum(['access-token', 'id-token', 'secret'])
      .describe('What to print: an OAuth access token, an OIDC ID token (--audience), or a Secret Manager secret (--name)'),
    scopes: z
      .array(z.string().trim().min(1))
      .default([CLOUD_PLATFORM_SCOPE])
      .describe('OAuth scopes of the access token (default cloud-platform)'),
    impersonateServiceAccount: z
      .string()
      .regex(/^[^@\s]+@[^@\s]+$/, 'must be a service-account email')
      .optional()
      .describe('Mint the token as this service account through the IAM Credentials API (needs roles/iam.serviceAccountTokenCreator)'),
    audience: z.url().optional().describe('id-token: the audience, e.g. the Cloud Run URL or the IAP OAuth client ID'),
    name: z
      .string()
      .regex(SECRET_VERSION_NAME, 'must look like projects/P/secrets/S/versions/V (V may be "latest")')
      .optional()
      .describe('secret: the Secret Manager version, projects/P/secrets/S/versions/latest'),
    credentialsFile: z
      .string()
      .min(1)
      .optional()
      .describe('Credentials JSON (service-account key, authorized_user, external_account); default: Application Default Credentials'),
    quotaProject: z.string().min(1).optional().describe('Project billed for Secret Manager and IAM calls (x-goog-user-project)'),
    iamCredentialsEndpoint: z
      .url()
      .optional()
      .describe('IAM Credentials API base URL for impersonation (Private Service Connect, tests); default https://iamcredentials.googleapis.com'),
    secretManagerEndpoint: z
      .url()
      .optional()
      .describe('Secret Manager API base URL (Private Service Connect, tests); default https://secretmanager.googleapis.com or the regional one'),
  })
  .superRefine((options, ctx) => {
    if (options.kind === 'id-token' && !options.audience) {
      ctx.addIssue({ code: 'custom', path: ['audience'], message: 'id-token needs --audience (the Cloud Run URL or IAP client ID)' });
    }
    if (options.kind === 'secret' && !options.name) {
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'secret needs --name projects/P/secrets/S/versions/latest' });
    }
  });

export type GcpOptions = z.output<typeof gcpOptions>;
