// What a token may be before the core prints or caches it: one HTTP header value of bounded size.
//
// Claude Code sends the helper's output as a header (`x-api-key` / `Authorization: Bearer`). A token
// with a space, a control character or a non-ASCII byte inside would be rejected or mangled there,
// usually far from here and with an error that names neither the helper nor the source.

/**
 * The largest token the core accepts, in bytes. Common servers cap one header line at 8 KiB
 * (nginx's `large_client_header_buffers`, Apache's `LimitRequestFieldSize`), and Node caps all
 * headers together at 16 KiB, so a longer token would be refused by the gateway anyway.
 */
export const MAX_TOKEN_BYTES = 8192;

/** Why `token` cannot be sent as one HTTP header value, without quoting it; undefined when it can. */
export function tokenProblem(token: string): string | undefined {
  if (token.length > MAX_TOKEN_BYTES) return `is ${token.length} characters long, over the ${MAX_TOKEN_BYTES}-byte limit for one header value`;
  // Visible ASCII only: RFC 9110 field values also allow inner spaces and tabs, but no API key or
  // bearer token has them, and a pasted "key extra-word" is far more likely than a real one.
  const bad = /[^\x21-\x7e]/.exec(token);
  if (!bad) return undefined;
  const ch = bad[0];
  const what =
    ch === ' ' ? 'a space'
    : ch === '\t' ? 'a tab'
    : ch === '\r' || ch === '\n' ? 'a line break'
    : ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f ? `a control character (0x${ch.charCodeAt(0).toString(16).padStart(2, '0')})`
    : 'a non-ASCII character';
  return `has ${what} at position ${bad.index + 1}`;
}
