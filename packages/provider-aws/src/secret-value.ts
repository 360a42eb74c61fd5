// Turns a GetSecretValue answer (SecretString or SecretBinary) into the one-line token to print.
import { AuthError, ConfigError, NotFoundError } from '@claude-key/core';

export interface SecretPayload {
  SecretString?: string | undefined;
  SecretBinary?: Uint8Array | undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Binary secrets become text when they are valid single-line UTF-8 (the common case: a key stored
 * with `--secret-binary fileb://key.txt`), otherwise base64, so stdout always holds one clean line.
 */
export function binaryToText(bytes: Uint8Array): { text: string; encoding: 'utf8' | 'base64' } {
  try {
    const text = dropTrailingNewline(strictUtf8.decode(bytes));
    if (text.length > 0 && !/[\r\n\0]/.test(text)) return { text, encoding: 'utf8' };
  } catch {
    // Not UTF-8: fall through to base64.
  }
  return { text: Buffer.from(bytes).toString('base64'), encoding: 'base64' };
}

const dropTrailingNewline = (text: string) => text.replace(/\r?\n$/, '');

/** Picks `jsonKey` out of a JSON-object secret; a missing key lists the key names, never values. */
export function pickJsonKey(raw: string, jsonKey: string, label: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${label} is not JSON, so --json-key cannot pick a field from it`, { hint: 'drop --json-key to print the whole value' });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ConfigError(`${label} is JSON but not an object, so --json-key cannot pick a field from it`);
  }
  const record = parsed as Record<string, unknown>;
  if (!Object.hasOwn(record, jsonKey)) {
    const names = Object.keys(record);
    const listed = names.length > 0 ? names.map((n) => JSON.stringify(n)).join(', ') : 'none';
    throw new NotFoundError(`${label} has no key ${JSON.stringify(jsonKey)}`, { hint: `its keys are: ${listed}` });
  }
  const value = record[jsonKey];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ConfigError(`key ${JSON.stringify(jsonKey)} of ${label} holds ${value === null ? 'null' : 'an object'}, not a string`);
}

/** The token for one secret version: the whole value or one JSON field, always a single non-empty line. */
export function secretToToken(payload: SecretPayload, jsonKey: string | undefined, label: string): { token: string; encoding: 'utf8' | 'base64' } {
  let text: string;
  let encoding: 'utf8' | 'base64' = 'utf8';
  if (payload.SecretString !== undefined) {
    text = payload.SecretString;
  } else if (payload.SecretBinary !== undefined) {
    // A JSON key asks for the bytes as JSON text; otherwise apply the text-or-base64 rule.
    if (jsonKey !== undefined) {
      text = Buffer.from(payload.SecretBinary).toString('utf8');
    } else {
      ({ text, encoding } = binaryToText(payload.SecretBinary));
    }
  } else {
    throw new NotFoundError(`${label} has no value (neither SecretString nor SecretBinary)`);
  }
  const token = dropTrailingNewline(jsonKey !== undefined ? pickJsonKey(text, jsonKey, label) : text);
  if (token.length === 0) throw new NotFoundError(`${label} is empty`);
  if (/[\r\n]/.test(token)) {
    // Exit 3 like the core's token rule (src/token.ts in core), with the AWS-specific way out.
    throw new AuthError(`${label} spans several lines, but a helper must print one line`, {
      hint: 'store the token alone, or store JSON and pick the field with --json-key',
    });
  }
  return { token, encoding };
}
