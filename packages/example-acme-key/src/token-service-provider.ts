// Acme's internal provider: exchanges the laptop's device credential for a gateway token at Acme's token service.
import * as z from 'zod';
import { AuthError, NotFoundError, UnreachableError, defineProvider, isNetworkError, zSecretRef } from '@claude-key/core';

const TokenAnswer = z.object({ access_token: z.string().min(1), expires_in: z.number().positive() });

export const tokenService = defineProvider({
  name: 'token-service',
  summary: "Acme's token service: a gateway token for this device and user",
  options: z.object({
    url: z.url().default('https://tokens.acme.internal/v1/claude').describe('token service endpoint'),
    deviceKey: zSecretRef('the device credential').default('keychain:acme/device'),
    team: z.string().optional().describe('charge usage to this team instead of your default one'),
  }),
  env: ['ACME_TOKEN_SERVICE'],
  secretOptions: ['deviceKey'],
  identity: (o, id) => ({ inputs: id.options(o, { refs: ['deviceKey'] }) }),
  examples: ['acme-key token-service --team platform'],
  async fetch(options, ctx) {
    const deviceKey = await ctx.secret(options.deviceKey);
    const url = ctx.env.ACME_TOKEN_SERVICE ?? options.url;
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Device ${deviceKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({ team: options.team, refused: ctx.refused }),
        signal: ctx.signal,
      });
    } catch (err) {
      if (isNetworkError(err)) throw new UnreachableError(`token service ${url} is unreachable`, { hint: 'are you on the VPN?' });
      throw err;
    }
    if (res.status === 401 || res.status === 403) throw new AuthError('the token service refused this device', { hint: 'run: acme-device enroll' });
    if (res.status === 404) throw new NotFoundError(`no token service at ${url}`);
    if (!res.ok) throw new UnreachableError(`token service answered HTTP ${res.status}`);
    const parsed = TokenAnswer.safeParse(await res.json().catch(() => undefined));
    if (!parsed.success) throw new UnreachableError('token service answered without access_token/expires_in');
    return { token: parsed.data.access_token, expiresAt: ctx.now() + parsed.data.expires_in * 1000 };
  },
});

export default tokenService;
