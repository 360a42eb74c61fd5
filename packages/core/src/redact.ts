// The one redaction function: every line the helper writes to stderr passes through here.
//
// Two layers: exact values the process has handled (every token, every resolved secret), and
// shapes that look like credentials even when we never saw them (a provider library's error
// text may echo a header). Exact values win because they catch secrets of any shape.

const known = new Set<string>();

/** Remember a secret so that it is masked wherever it shows up later in this process. */
export function registerSecret(value: string | undefined): void {
  // Very short values would mask ordinary words; they are not credentials worth the noise.
  if (value && value.length >= 6) known.add(value);
}

const PATTERNS: RegExp[] = [
  // JWT / JWS compact form.
  /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g,
  // Authorization-style headers and key=value pairs naming a secret.
  /\bbearer\s+[A-Za-z0-9._~+/=-]{8,}/gi,
  // Basic credentials are base64, which has capitals or digits; "basic authentication" is prose.
  /\b[Bb]asic\s+(?=[a-z]*[A-Z0-9+/=])[A-Za-z0-9+/=]{8,}/g,
  /\b((?:api[_-]?key|token|secret|password|passwd|client[_-]?secret|secret[_-]?id|x-api-key|authorization)["']?\s*[:=]\s*["']?)([^\s"',;&]{6,})/gi,
  // Common vendor key prefixes: Anthropic, Vault service/batch tokens, AWS secret-looking keys, GitHub.
  /\bsk-ant-[A-Za-z0-9_-]{8,}/g,
  /\bhv[sbr]\.[A-Za-z0-9_-]{16,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{20,}/g,
];

/**
 * Whether the value after "secret:" or "token=" looks generated rather than written: ordinary
 * words ("secretId: Invalid input", "token: expired") stay readable, keys and passwords do not.
 */
function looksGenerated(value: string): boolean {
  return /\d/.test(value) || value.length >= 24 || (value.length >= 12 && /[a-z]/.test(value) && /[A-Z]/.test(value));
}

/** Returns `text` with every known secret and credential-shaped substring replaced by a marker. */
export function redact(text: string): string {
  let out = text;
  for (const secret of known) {
    if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  for (const pattern of PATTERNS) {
    out = out.replace(pattern, (match, prefix?: string, value?: string) => {
      if (typeof prefix !== 'string' || typeof value !== 'string' || !match.endsWith(value) || prefix.length >= match.length) return '[redacted]';
      return looksGenerated(value) ? `${prefix}[redacted]` : match;
    });
  }
  return out;
}

/** For tests: forget registered secrets. */
export function clearRegisteredSecrets(): void {
  known.clear();
}
