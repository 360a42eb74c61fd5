// Static API keys for service accounts: stored as SHA-256 hashes, compared in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKeyConfig } from '../config.js';
import { authenticationError } from '../errors.js';
import type { Principal } from './principal.js';

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export class ApiKeyVerifier {
  private readonly keys: { digest: Buffer; entry: ApiKeyConfig }[];

  constructor(keys: readonly ApiKeyConfig[]) {
    this.keys = keys.map((entry) => ({ digest: Buffer.from(entry.sha256, 'hex'), entry }));
  }

  get size(): number {
    return this.keys.length;
  }

  verify(presented: string): Principal {
    const digest = createHash('sha256').update(presented, 'utf8').digest();
    let match: ApiKeyConfig | undefined;
    // Compare against every key, without stopping early, so timing says nothing about which matched.
    for (const key of this.keys) {
      if (timingSafeEqual(digest, key.digest) && !match) match = key.entry;
    }
    if (!match) throw authenticationError('Invalid API key.');
    return { source: 'api-key', subject: match.id, user: match.user, team: match.team, credentialId: `key:${match.id}`, kind: 'api-key' };
  }
}
