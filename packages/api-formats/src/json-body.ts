// Minimal edits to the top-level members of a JSON object, leaving every other byte where it was.
//
// Why not a JSON library: parse + stringify reorders nothing but re-encodes everything (numbers,
// escapes, whitespace), and tree-building editors such as jsonc-parser cost ~0.5 ms per 100 KB per
// edit. We only ever touch top-level keys, so one pass that skips nested values is enough. The
// body has already been validated with JSON.parse, so the scanner may assume well-formed JSON.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** One top-level member: `start` is its opening key quote, `end` is one past its value. */
export interface MemberSpan {
  key: string;
  start: number;
  valueStart: number;
  end: number;
}

export interface ObjectLayout {
  /** Offset just after the opening `{`. */
  bodyStart: number;
  members: MemberSpan[];
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function skipSpace(buf: Buffer, pos: number): number {
  while (isSpace(buf[pos])) pos++;
  return pos;
}

/** Returns the offset one past the closing quote of the string that opens at `pos`. */
function skipString(buf: Buffer, pos: number): number {
  let at = pos + 1;
  for (;;) {
    const quote = buf.indexOf(QUOTE, at);
    if (quote < 0) throw new SyntaxError('unterminated string in JSON body');
    let backslashes = 0;
    while (buf[quote - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    at = quote + 1;
  }
}

function skipValue(buf: Buffer, pos: number): number {
  const first = buf[pos];
  if (first === QUOTE) return skipString(buf, pos);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    let at = pos;
    while (at < buf.length) {
      const byte = buf[at];
      if (byte === QUOTE) {
        at = skipString(buf, at);
        continue;
      }
      if (byte === OPEN_BRACE || byte === OPEN_BRACKET) depth++;
      else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return at + 1;
      }
      at++;
    }
    throw new SyntaxError('unterminated value in JSON body');
  }
  let at = pos;
  while (at < buf.length) {
    const byte = buf[at];
    if (byte === COMMA || byte === CLOSE_BRACE || isSpace(byte)) break;
    at++;
  }
  return at;
}

/** Finds every top-level member of the JSON object in `buf`. */
export function scanObject(buf: Buffer): ObjectLayout {
  let pos = skipSpace(buf, 0);
  if (buf[pos] !== OPEN_BRACE) throw new SyntaxError('JSON body is not an object');
  const bodyStart = pos + 1;
  pos = skipSpace(buf, bodyStart);
  const members: MemberSpan[] = [];
  while (buf[pos] !== CLOSE_BRACE) {
    if (buf[pos] !== QUOTE) throw new SyntaxError('expected a key in JSON body');
    const start = pos;
    const keyEnd = skipString(buf, pos);
    const key = JSON.parse(buf.toString('utf8', start, keyEnd)) as string;
    pos = skipSpace(buf, keyEnd);
    if (buf[pos] !== COLON) throw new SyntaxError('expected ":" in JSON body');
    const valueStart = skipSpace(buf, pos + 1);
    const end = skipValue(buf, valueStart);
    members.push({ key, start, valueStart, end });
    pos = skipSpace(buf, end);
    if (buf[pos] === COMMA) pos = skipSpace(buf, pos + 1);
    else if (buf[pos] !== CLOSE_BRACE) throw new SyntaxError('expected "," or "}" in JSON body');
  }
  return { bodyStart, members };
}

/**
 * What to change. `set` replaces a member's value in place, or inserts the member first in the
 * object when absent; `remove` deletes the member and one adjacent comma. `undefined` values in
 * `set` are ignored so callers can pass optional fields straight through.
 */
export interface ObjectEdits {
  set?: Record<string, unknown>;
  remove?: string[];
}

/** Applies `edits` to the JSON object in `buf`; returns `buf` itself when nothing changes. */
export function editObject(buf: Buffer, edits: ObjectEdits, layout: ObjectLayout = scanObject(buf)): Buffer {
  const { members, bodyStart } = layout;
  const removeKeys = new Set(edits.remove ?? []);
  const setEntries = Object.entries(edits.set ?? {}).filter(([, value]) => value !== undefined);
  const replacement = new Map(setEntries.map(([key, value]) => [key, JSON.stringify(value)]));
  const kept = members.filter((member) => !removeKeys.has(member.key));
  const present = new Set(kept.map((member) => member.key));
  const inserts = setEntries.filter(([key]) => !present.has(key)).map(([key]) => `${JSON.stringify(key)}:${replacement.get(key)}`);
  const changesValue = kept.some((member) => replacement.has(member.key));
  if (kept.length === members.length && inserts.length === 0 && !changesValue) return buf;

  // Rebuild from pieces of the original: kept members keep their bytes and the separator that
  // followed them; only removed members (with their separator) and replaced values change.
  const parts: Buffer[] = [buf.subarray(0, bodyStart)];
  if (inserts.length > 0) parts.push(Buffer.from(inserts.join(',') + (kept.length > 0 ? ',' : ''), 'utf8'));
  const first = members[0];
  if (!first) {
    parts.push(buf.subarray(bodyStart));
    return Buffer.concat(parts);
  }
  parts.push(buf.subarray(bodyStart, first.start));
  const lastKept = kept[kept.length - 1];
  members.forEach((member, index) => {
    if (removeKeys.has(member.key)) return;
    const value = replacement.get(member.key);
    if (value === undefined) parts.push(buf.subarray(member.start, member.end));
    else parts.push(buf.subarray(member.start, member.valueStart), Buffer.from(value, 'utf8'));
    // The separator that followed this member in the original (its comma and spacing).
    if (member !== lastKept) parts.push(buf.subarray(member.end, members[index + 1]!.start));
  });
  parts.push(buf.subarray(members[members.length - 1]!.end));
  return Buffer.concat(parts);
}
