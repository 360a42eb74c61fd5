// Remembers which fake access tokens were issued, to whom and until when, so resource servers can check bearers.
import { randomBytes } from 'node:crypto';

export interface IssuedToken {
  /** The service account (or user) the token acts as. */
  principal: string;
  scopes: string[];
  expiresAt: number;
}

export class TokenLedger {
  private readonly tokens = new Map<string, IssuedToken>();

  /** Mints an opaque token shaped like Google's (`ya29.` prefix). */
  issue(principal: string, scopes: string[], lifetimeSeconds: number): string {
    const token = `ya29.test-${randomBytes(24).toString('base64url')}`;
    this.tokens.set(token, { principal, scopes, expiresAt: Date.now() + lifetimeSeconds * 1000 });
    return token;
  }

  /** The grant behind a live token, or undefined for unknown or expired ones. */
  lookup(token: string | undefined): IssuedToken | undefined {
    if (token === undefined) return undefined;
    const grant = this.tokens.get(token);
    return grant && grant.expiresAt > Date.now() ? grant : undefined;
  }

  revokeAll(): void {
    this.tokens.clear();
  }
}
