// Signs Google-shaped OIDC ID tokens (iss accounts.google.com, RS256) for the fake token, metadata and IAM servers.
import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';

export class IdTokenIssuer {
  readonly keyId = randomUUID();
  readonly publicKey: KeyObject;
  private readonly privateKey: KeyObject;

  constructor() {
    ({ publicKey: this.publicKey, privateKey: this.privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 }));
  }

  /** An ID token for `email` meant for `audience`, valid for an hour like Google's. */
  async sign(email: string, audience: string, lifetimeSeconds = 3600): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ email, email_verified: true, azp: email })
      .setProtectedHeader({ alg: 'RS256', kid: this.keyId, typ: 'JWT' })
      .setIssuer('https://accounts.google.com')
      .setSubject(String(Math.abs(hashCode(email))).padStart(21, '1'))
      .setAudience(audience)
      .setIssuedAt(now)
      .setExpirationTime(now + lifetimeSeconds)
      .sign(this.privateKey);
  }
}

// Google's `sub` is a stable numeric account id; derive one from the email for the fake.
function hashCode(text: string): number {
  let hash = 0;
  for (const char of text) hash = (hash * 31 + char.charCodeAt(0)) | 0;
  return hash;
}
