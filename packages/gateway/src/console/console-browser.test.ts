// The console in a real browser (Debian's chromium through playwright-core): sign in, read charts of real traffic, revoke a key, find the refusal.
// UPDATE_SCREENSHOTS=1 writes each view to docs/console/*.png for the gateway README.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createServer } from 'node:net';
import { ENROLL_AUDIENCE } from '../admin.js';
import { parseConfig } from '../config.js';
import { createGateway, type Gateway } from '../gateway.js';
import { createLogger } from '../log.js';
import { CONSOLE_CLIENT_ID, startConsoleOp } from '../test-support/oidc-op.js';
import { messagesBody, startTestGateway, type TestGateway } from '../test-support/gateway.js';
import { ENROLLED_ISSUER, issuerConfig, createTestIssuer, TEST_AUDIENCE, TEST_ISSUER, userKey } from '../test-support/keys.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const BROWSER_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];
const SHOTS = join(dirname(fileURLToPath(import.meta.url)), '../../../../docs/console');

describe('console in a browser', { skip: !existsSync(CHROMIUM) && `no browser at ${CHROMIUM} (./scripts/setup installs chromium)` }, () => {
  let t: TestGateway;
  let browser: Browser;
  let page: Page;

  before(async () => {
    const oidc = await createTestIssuer();
    t = await startTestGateway(
      {
        console: { enabled: true },
        auth: {
          issuers: [issuerConfig(oidc), { issuer: ENROLLED_ISSUER, audience: TEST_AUDIENCE, trust: 'enrolled' }],
          admins: [{ source: TEST_ISSUER, subject: 'root' }],
          apiKeys: [{ id: 'ci-deploy', sha256: createHash('sha256').update('ci-deploy-secret').digest('hex'), user: 'ci-deploy', team: 'platform' }],
        },
        policies: {
          defaults: { monthlyUsd: 50 },
          teams: { eng: { monthlyUsd: 200 }, research: { dailyUsd: 0.00001 }, platform: { monthlyUsd: 500 } },
          users: { carol: { requestsPerMinute: 3 } },
        },
      },
      { issuer: oidc },
    );
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: BROWSER_ARGS,
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('dialog', (d) => void d.accept());
  });
  after(async () => {
    await browser?.close();
    await t?.close();
  });

  /** A real request through the gateway: its status and request id. */
  const ask = async (token: string, model = 'claude-sonnet-4-5-20250929') => {
    const r = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(messagesBody({ model })),
    });
    await r.arrayBuffer();
    return { status: r.status, id: r.headers.get('x-claude-key-request-id')! };
  };
  const shot = async (name: string) => {
    if (process.env.UPDATE_SCREENSHOTS !== '1') return;
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  };

  it('signs in, charts real traffic, approves and revokes a key, and finds the refusal in the audit log', async () => {
    // Traffic from three teams and two models; research's tiny daily budget and carol's rate limit produce refusals.
    const as = (sub: string, team: string) => t.issuer.sign({ sub, team });
    for (const [sub, team, n, model] of [
      ['alice', 'eng', 4, 'claude-sonnet-4-5-20250929'],
      ['bob', 'eng', 2, 'claude-haiku-4-5-20251001'],
      ['erin', 'research', 3, 'claude-sonnet-4-5-20250929'],
      ['carol', 'platform', 5, 'claude-haiku-4-5-20251001'],
    ] as const) {
      for (let i = 0; i < n; i++) await ask(await as(sub, team), model);
    }

    // A developer enrolls a key; the admin will approve and then revoke it in the console.
    const dana = await userKey();
    const enrolled = await fetch(`${t.url}/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jwk: dana.jwk, user: 'dana', teams: ['eng'], proof: await dana.sign({ sub: 'dana' }, ENROLL_AUDIENCE) }),
    });
    assert.equal(enrolled.status, 202);

    // Sign in with the keyboard: type the token, Tab to the button, Enter.
    await page.goto(`${t.url}/console/`);
    await page.getByLabel('Admin token').waitFor();
    await shot('signin');
    await page.getByLabel('Admin token').fill(await t.issuer.sign({ sub: 'root', team: 'ops' }));
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.getByText(`Signed in as ${TEST_ISSUER} root`).waitFor();
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'ckg_console')!;
    assert.ok(session.httpOnly);
    assert.equal(session.sameSite, 'Strict');

    // Usage: a chart drawn on a canvas, its legend naming the teams; hovering a bar shows its numbers.
    const chart = page.getByRole('img', { name: /Spend per day by team/ });
    await chart.locator('canvas').waitFor();
    const legend = await chart.locator('.u-legend').innerText();
    for (const team of ['eng', 'research', 'platform']) assert.match(legend, new RegExp(team));
    const box = (await chart.locator('.u-over').boundingBox())!;
    await page.mouse.move(box.x + box.width - 4, box.y + box.height - 4);
    assert.match(await chart.locator('.u-legend').innerText(), /\$\d/);
    assert.match(await page.getByRole('table', { name: 'Top users' }).innerText(), /alice/);
    assert.match(await page.getByRole('table', { name: 'Cost per model' }).innerText(), /claude-haiku-4-5/);
    await page.getByLabel('Group by').selectOption('model');
    await page.getByRole('img', { name: /Spend per day by model/ }).locator('canvas').waitFor();
    await page.getByLabel('Group by').selectOption('team');
    // The chart is drawn again (more than once as its data arrives): hover() waits for the element
    // it finds to be attached and still, where a bounding box read mid-redraw can be null.
    await chart.locator('.u-over').hover({ position: { x: box.width - 4, y: box.height - 4 } });
    await shot('usage');

    // Budgets: spend against each budget, and the refusals.
    await page.getByRole('link', { name: 'Budgets' }).click();
    const refusals = page.getByRole('table', { name: /Recent refusals/ });
    await refusals.waitFor();
    assert.match(await refusals.innerText(), /429 rate limit\s+carol/);
    assert.match(await refusals.innerText(), /403 refused\s+erin\s+research/);
    assert.match(await page.getByRole('row', { name: /team eng/ }).innerText(), /of \$200/);
    await shot('budgets');

    // Identities: approve dana's key, see a request with it succeed; revoke it, see the next one refused.
    await page.getByRole('link', { name: 'Identities' }).click();
    await page.getByRole('button', { name: `Approve key ${dana.kid} of dana` }).click();
    await page.getByRole('status').filter({ hasText: 'done' }).waitFor();
    assert.equal((await ask(await dana.sign({ sub: 'dana' }))).status, 200);
    await page.getByRole('button', { name: `Revoke key ${dana.kid} of dana` }).click();
    await page.getByRole('cell', { name: 'revoked' }).first().waitFor();
    const refused = await ask(await dana.sign({ sub: 'dana' }));
    assert.equal(refused.status, 401);
    // A leaver: every token of that identity, whatever its key or jti.
    const erin = await as('erin', 'research');
    await page.getByLabel('Kind').selectOption('subject');
    await page.getByLabel('Value').fill(`${TEST_ISSUER} erin`);
    await page.getByLabel('Reason').fill('left the company');
    await page.getByRole('form', { name: 'Revoke a credential or identity' }).getByRole('button', { name: 'Revoke' }).click();
    await page.getByRole('cell', { name: 'left the company (console)' }).waitFor();
    assert.equal((await ask(erin)).status, 401);
    await shot('identities');

    // Audit: search by status; the refusal is there under its request id, and the chain verifies.
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('button', { name: 'Verify the whole chain' }).click();
    await page.getByText(/verified, \d+ records intact/).waitFor();
    await page.getByLabel('Status').fill('401');
    await page.getByLabel('Status').press('Enter');
    // Only the two refusals match (dana's revoked key, erin the leaver): the table shrinks to them.
    const refusals401 = page.getByRole('table', { name: /^2 newest matching records/ });
    await refusals401.locator(`code[title="${refused.id}"]`).waitFor();
    // A refused row has no user; it says whom the token claimed, marked unverified.
    const danaRow = refusals401.getByRole('row').filter({ has: page.locator(`code[title="${refused.id}"]`) });
    assert.match(await danaRow.innerText(), /claimed: dana \(unverified\)/);
    assert.match(await refusals401.innerText(), /claimed: erin \(unverified\)/);
    await page.getByLabel('Status').fill('');
    await page.getByLabel('User').fill('dana');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('cell', { name: 'key.revoke' }).waitFor();
    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: /Export these/ }).click();
    const exported = await (await download).createReadStream();
    let text = '';
    for await (const chunk of exported) text += chunk;
    assert.match(text, /"event":"key.revoke"/);
    await page.getByLabel('User').fill('');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('cell', { name: 'key.revoke' }).waitFor();
    await shot('audit');

    // Health: the store answers; the mock upstream served everything.
    await page.getByRole('link', { name: 'Health' }).click();
    await page.getByText('up', { exact: true }).first().waitFor();
    assert.match(await page.getByRole('table', { name: /Deployments, last hour/ }).innerText(), /mock/);
    await shot('health');

    // Sign out: a DELETE the page sends with its CSRF token and Origin; the cookie is gone after.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin token').waitFor();
    assert.equal((await page.context().cookies()).find((c) => c.name === 'ckg_console'), undefined);
  });
});

describe('console login at an OpenID Provider, in a browser', { skip: !existsSync(CHROMIUM) && `no browser at ${CHROMIUM}` }, () => {
  let op: Awaited<ReturnType<typeof startConsoleOp>>;
  let gateway: Gateway;
  let url: string;
  let browser: Browser;

  before(async () => {
    op = await startConsoleOp();
    // The redirect URI names the gateway's port, so the port is chosen before the config is made.
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const config = parseConfig({
      listen: { host: '127.0.0.1', port },
      store: { path: 'memory://', flushIntervalMs: 20 },
      auth: {
        issuers: [{ issuer: op.issuer, audience: 'claude-key-gateway', discovery: true, algorithms: ['ES256'] }],
        admins: [{ source: op.issuer, group: 'gateway-admins' }],
      },
      console: { enabled: true, login: { issuer: op.issuer, clientId: CONSOLE_CLIENT_ID, redirectUri: `http://127.0.0.1:${port}/console/api/login/callback`, scope: 'openid' } },
    });
    gateway = await createGateway(config, { logger: createLogger('silent') });
    url = await gateway.listen(port, '127.0.0.1');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: BROWSER_ARGS });
  });
  after(async () => {
    await browser?.close();
    await gateway?.close();
    await op?.close();
  });

  /** Leaves for the provider from the sign-in page, logs in as `account` there and consents. */
  const loginAs = async (account: string) => {
    const page = await browser.newPage();
    await page.goto(`${url}/console/`);
    await page.getByRole('link', { name: `Sign in at ${op.issuer}` }).click();
    await page.locator('input[name="login"]').fill(account);
    await page.locator('input[name="password"]').fill('any password');
    await page.locator('button[type="submit"]').click();
    await page.locator('button[type="submit"]').click(); // consent
    return page;
  };

  it('signs an admin in with the authorization code flow and PKCE; the session cookie is HttpOnly and SameSite=Strict', async () => {
    const page = await loginAs('root');
    await page.getByText(`Signed in as ${op.issuer} root`).waitFor();
    const session = (await page.context().cookies()).find((c) => c.name === 'ckg_console')!;
    assert.ok(session.httpOnly);
    assert.equal(session.sameSite, 'Strict');
    await page.getByRole('link', { name: 'Audit' }).click();
    await page.getByRole('cell', { name: 'console.signin' }).waitFor();
    await page.close();
  });

  it('refuses someone the provider knows but auth.admins does not name', async () => {
    const page = await loginAs('mallory');
    await page.getByText(/not a gateway admin/).waitFor();
    assert.equal((await page.context().cookies()).find((c) => c.name === 'ckg_console'), undefined);
    await page.close();
  });

  it('refuses a callback this browser did not start', async () => {
    const res = await fetch(`${url}/console/api/login/callback?code=x&state=forged`);
    assert.equal(res.status, 401);
    assert.equal(((await res.json()) as { error: { type: string } }).error.type, 'authentication_error');
  });
});
