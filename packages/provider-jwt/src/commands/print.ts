// Output helpers shared by the jwt commands.
import type { CommandIO } from '@claude-key/core';
import type { JWK } from 'jose';

/** The public JWKS as pretty JSON on stdout, ready to paste into a gateway config or serve. */
export function printJwks(io: CommandIO, jwks: { keys: JWK[] }): void {
  io.stdout(`${JSON.stringify(jwks, null, 2)}\n`);
}
