// A strict reader of awsCredentialExport output, written from Claude Code's documented shape (tests only).
//
// Claude Code's Bedrock docs: the command "must output JSON" of the form
//   {"Credentials":{"AccessKeyId":"…","SecretAccessKey":"…","SessionToken":"…"}}
// Claude Code 2.1.328 additionally requires the three values to be non-empty strings and reads an
// optional `Expiration` string with Date.parse. This parser is stricter than Claude Code on
// purpose: one line, the `Credentials` wrapper, no unknown keys, and an ISO 8601 UTC Expiration.

export interface ParsedCredentialExport {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** ms since the epoch, when the output carried an Expiration. */
  expiration?: number;
}

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/;
const REQUIRED = ['AccessKeyId', 'SecretAccessKey', 'SessionToken'] as const;

export function parseCredentialExport(stdout: string): ParsedCredentialExport {
  const text = stdout.replace(/\n$/, '');
  if (/[\r\n]/.test(text)) throw new Error('awsCredentialExport output must be a single line');
  const root: unknown = JSON.parse(text);
  if (typeof root !== 'object' || root === null || Array.isArray(root)) throw new Error('output must be a JSON object');
  const rootKeys = Object.keys(root);
  if (rootKeys.length !== 1 || rootKeys[0] !== 'Credentials') throw new Error(`output must have exactly one key "Credentials", got ${rootKeys.join(',')}`);
  const creds = (root as { Credentials: unknown }).Credentials;
  if (typeof creds !== 'object' || creds === null || Array.isArray(creds)) throw new Error('Credentials must be an object');
  const record = creds as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!(REQUIRED as readonly string[]).includes(key) && key !== 'Expiration') throw new Error(`unexpected key Credentials.${key}`);
  }
  for (const key of REQUIRED) {
    const value = record[key];
    if (typeof value !== 'string' || value.length === 0) throw new Error(`Credentials.${key} must be a non-empty string`);
  }
  const result: ParsedCredentialExport = {
    accessKeyId: record.AccessKeyId as string,
    secretAccessKey: record.SecretAccessKey as string,
    sessionToken: record.SessionToken as string,
  };
  if ('Expiration' in record) {
    const exp = record.Expiration;
    if (typeof exp !== 'string' || !ISO_UTC.test(exp) || Number.isNaN(Date.parse(exp))) throw new Error('Credentials.Expiration must be an ISO 8601 UTC timestamp');
    result.expiration = Date.parse(exp);
  }
  return result;
}
