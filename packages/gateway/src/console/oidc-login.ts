// Console sign-in at the configured OpenID Provider: authorization code with PKCE, state and nonce (openid-client).
import * as oidc from 'openid-client';
import type { GatewayConfig } from '../config.js';
import { authenticationError } from '../errors.js';

type LoginConfig = NonNullable<GatewayConfig['console']['login']>;

interface Pending {
  verifier: string;
  nonce: string;
  expiresAt: number;
}

/** A login has this long between leaving for the provider and coming back. */
const PENDING_MS = 10 * 60_000;
const MAX_PENDING = 1000;

export class OidcLogin {
  private client: Promise<oidc.Configuration> | undefined;
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly settings: LoginConfig,
    private readonly now: () => number,
  ) {}

  /** Discovery once; a failure is retried on the next login. */
  private configuration(): Promise<oidc.Configuration> {
    const issuer = new URL(this.settings.issuer);
    // Plain HTTP only for a provider on this machine (tests, a local IdP); never across a network.
    const local = issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
    this.client ??= oidc.discovery(issuer, this.settings.clientId, undefined, oidc.None(), local ? { execute: [oidc.allowInsecureRequests] } : undefined).catch((err) => {
      this.client = undefined;
      throw err;
    });
    return this.client;
  }

  /** Where to send the browser, and the state that binds the answer to this browser (set as a cookie). */
  async start(): Promise<{ url: string; state: string }> {
    const config = await this.configuration();
    const verifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    this.sweep();
    if (this.pending.size >= MAX_PENDING) throw authenticationError('Too many logins in progress; try again in a few minutes.');
    this.pending.set(state, { verifier, nonce, expiresAt: this.now() + PENDING_MS });
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.settings.redirectUri,
      scope: this.settings.scope,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state };
  }

  /**
   * The provider's redirect back: the state must be the one this browser's cookie carries, then the
   * code is exchanged with the PKCE verifier and the ID token checked (signature, issuer, audience, nonce).
   */
  async finish(query: URLSearchParams, cookieState: string | undefined): Promise<{ claims: Record<string, unknown>; credentialId: string }> {
    const state = query.get('state') ?? '';
    const pending = this.pending.get(state);
    this.pending.delete(state);
    if (!pending || !cookieState || cookieState !== state || pending.expiresAt <= this.now()) {
      throw authenticationError('This login was not started here, or took too long; start again.');
    }
    const config = await this.configuration();
    const callback = new URL(this.settings.redirectUri);
    callback.search = query.toString();
    let tokens;
    try {
      tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: pending.verifier, expectedState: state, expectedNonce: pending.nonce, idTokenExpected: true });
    } catch (err) {
      // The provider's own words (access_denied, invalid_grant) are safe to show; nothing secret is in them.
      throw authenticationError(`The OpenID Provider did not sign you in: ${(err as Error).message}`);
    }
    const claims = tokens.claims() as Record<string, unknown> | undefined;
    if (!claims) throw authenticationError('The OpenID Provider sent no ID token.');
    return { claims, credentialId: `oidc:${String(claims.sid ?? claims.jti ?? `${claims.sub}@${claims.iat}`)}` };
  }

  private sweep() {
    const now = this.now();
    for (const [state, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(state);
  }
}
