// `claude-key oidc`: an access (or ID) token from the company's OpenID Provider, refreshed silently.
import { defineProvider } from '@claude-key/core';
import { fetchWithClientCredentials } from './client-credentials.js';
import { oidcCommands } from './commands.js';
import { defaultDeps, type OidcDeps } from './deps.js';
import { fetchOptions } from './options.js';
import { fetchWithSession } from './session.js';

export type { OidcDeps } from './deps.js';

/** The provider with its terminal, browser and keychain seams replaced (tests use this). */
export function createOidcProvider(overrides: Partial<OidcDeps> = {}) {
  const deps: OidcDeps = { ...defaultDeps, ...overrides };
  return defineProvider({
    name: 'oidc',
    summary: 'Access token from your OpenID Provider (device-flow login, silent refresh, client credentials)',
    options: fetchOptions,
    examples: [
      'claude-key oidc --issuer https://login.example.com --client-id claude-code',
      'claude-key oidc --issuer https://login.example.com --client-id claude-code --id-token',
      'claude-key oidc --issuer https://login.example.com --client-id ci-bot --grant client-credentials --client-secret env:OIDC_CLIENT_SECRET',
    ],
    // The session file lives under the config dir, so a different dir means a different session.
    env: ['CLAUDE_KEY_CONFIG_DIR'],
    secretOptions: ['clientSecret'],
    identity: (o, id) => ({ inputs: id.options(o, { refs: ['clientSecret'] }) }),
    commands: oidcCommands(deps),
    fetch(options, ctx) {
      return options.grant === 'client-credentials' ? fetchWithClientCredentials(options, ctx) : fetchWithSession(options, ctx, deps);
    },
  });
}

export default createOidcProvider();
