// @claude-key/provider-gcp: Google Cloud access tokens, ID tokens (IAP, Cloud Run) and Secret Manager secrets.
import { defineProvider } from '@claude-key/core';
import { gcpOptions } from './options.js';
import { wellKnownCredentialsPath } from './credentials-file.js';
import { fetchAccessToken } from './access-token.js';
import { fetchIdToken } from './id-token.js';
import { fetchSecret } from './secret-manager.js';

export default defineProvider({
  name: 'gcp',
  summary: 'Google Cloud: ADC access tokens (Vertex AI), ID tokens (IAP, Cloud Run), Secret Manager secrets',
  options: gcpOptions,
  positional: 'kind',
  examples: [
    'claude-key gcp access-token',
    'claude-key gcp access-token --impersonate-service-account claude@my-project.iam.gserviceaccount.com',
    'claude-key gcp id-token --audience https://llm-gateway-abc123-uc.a.run.app',
    'claude-key gcp secret --name projects/my-project/secrets/anthropic-key/versions/latest',
  ],
  // Everything that changes which credentials ADC picks, or where their tokens come from.
  env: [
    'GOOGLE_APPLICATION_CREDENTIALS',
    'CLOUDSDK_CONFIG',
    'CLOUDSDK_CORE_PROJECT',
    'GOOGLE_CLOUD_PROJECT',
    'GCE_METADATA_HOST',
    'GCE_METADATA_IP',
    'METADATA_SERVER_DETECTION',
  ],
  // The credentials file's content counts too: `gcloud auth application-default login` as someone
  // else, or a rotated key, is a new identity.
  identity: (o, id) => {
    const file = o.credentialsFile ?? id.env.GOOGLE_APPLICATION_CREDENTIALS ?? wellKnownCredentialsPath(id.env);
    return { inputs: { ...id.options(o, {}), credentials: file ? id.ref(`file:${file}`) : null } };
  },
  async fetch(options, ctx) {
    ctx.signal.throwIfAborted();
    switch (options.kind) {
      case 'access-token':
        return fetchAccessToken(options, ctx);
      case 'id-token':
        return fetchIdToken(options, ctx);
      case 'secret':
        return fetchSecret(options, ctx);
    }
  },
});
