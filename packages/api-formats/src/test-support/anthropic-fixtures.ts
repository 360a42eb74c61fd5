// Canned Anthropic Messages answers (JSON and stream events) used by every test upstream.

export const UPSTREAM_TEXT = 'Hello from the test upstream — grüße';

export function messageJson(model: string): Record<string, unknown> {
  return {
    id: 'msg_test_01',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: UPSTREAM_TEXT }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { input_tokens: 12, output_tokens: 7 },
  };
}

export function streamEvents(model: string): Array<Record<string, unknown>> {
  const [first, second] = [UPSTREAM_TEXT.slice(0, 10), UPSTREAM_TEXT.slice(10)];
  return [
    { type: 'message_start', message: { ...messageJson(model), content: [], stop_reason: null, usage: { input_tokens: 12, output_tokens: 1 } } },
    { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
    { type: 'ping' },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: first } },
    { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: second } },
    { type: 'content_block_stop', index: 0 },
    { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 7 } },
    { type: 'message_stop' },
  ];
}

export function sseText(events: Array<Record<string, unknown>>): string {
  return events.map((event) => `event: ${String(event['type'])}\ndata: ${JSON.stringify(event)}\n\n`).join('');
}

/** A body like Claude Code's: fields a gateway must not drop, odd spacing, escapes and non-ASCII. */
export const CLAUDE_CODE_BODY = `{
  "model": "claude-sonnet-4-5-20250929",
  "max_tokens":  32000,
  "messages": [{"role": "user", "content": [{"type": "text", "text": "quote \\" brace { bracket ] ünïcödé \\\\", "cache_control": {"type": "ephemeral"}}]}],
  "system": [{"type": "text", "text": "You are Claude Code", "cache_control": {"type": "ephemeral", "ttl": "1h"}}],
  "tools": [{"name": "Bash", "description": "run", "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}}}],
  "metadata": {"user_id": "user_abc_account_def_session_123"},
  "thinking": {"type": "enabled", "budget_tokens": 31999},
  "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
  "temperature": 1.0e0,
  "stream": true
}`;
