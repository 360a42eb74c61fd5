// Plays the person at the browser: drives the OP's own pages (device code entry, login, consent) over HTTP.

/** Submits the user code and signs in as `account` through oidc-provider's HTML forms. */
export function completeDeviceSignIn(verificationUri: string, userCode: string, account = 'alice'): Promise<string> {
  return signInAt(verificationUri, { user_code: userCode }, account);
}

/** Opens an authorization URL, signs in and consents; the last redirect lands on the client's callback. */
export function completeBrowserSignIn(authorizationUrl: string, account = 'alice'): Promise<string> {
  return signInAt(authorizationUrl, {}, account);
}

async function signInAt(url: string, firstFields: Record<string, string>, account: string): Promise<string> {
  const browser = cookieBrowser();
  let page = await browser.open(url);
  let fields: Record<string, string> = firstFields;
  // Code entry, confirmation, login, consent: each page is one form; the last page has none.
  for (let step = 0; step < 8; step++) {
    const form = readForm(page.html, page.url);
    if (!form) return page.html;
    if (form.fields.prompt === 'login') fields = { login: account, password: 'any password' };
    page = await browser.open(form.action, { ...form.fields, ...fields });
    fields = {};
  }
  throw new Error('the sign-in did not finish within 8 pages');
}

function cookieBrowser() {
  const jar = new Map<string, string>();
  const request = async (url: string, body?: Record<string, string>) => {
    const res = await fetch(url, {
      method: body ? 'POST' : 'GET',
      redirect: 'manual',
      headers: {
        cookie: [...jar].map(([name, value]) => `${name}=${value}`).join('; '),
        ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: body ? new URLSearchParams(body).toString() : undefined,
    });
    for (const cookie of res.headers.getSetCookie()) {
      const pair = cookie.split(';')[0]!;
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    return res;
  };
  return {
    async open(url: string, body?: Record<string, string>) {
      let res = await request(url, body);
      while (res.status >= 300 && res.status < 400) {
        url = new URL(res.headers.get('location')!, url).href;
        res = await request(url);
      }
      const html = await res.text();
      if (res.status >= 400) throw new Error(`the OP answered ${res.status} for ${url}: ${html.slice(0, 300)}`);
      return { url, html };
    },
  };
}

function readForm(html: string, base: string): { action: string; fields: Record<string, string> } | undefined {
  const form = /<form\b[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/i.exec(html);
  if (!form) return undefined;
  const fields: Record<string, string> = {};
  for (const input of form[2]!.matchAll(/<input\b[^>]*>/gi)) {
    const name = /\bname="([^"]*)"/.exec(input[0])?.[1];
    const value = /\bvalue="([^"]*)"/.exec(input[0])?.[1] ?? '';
    if (name) fields[name] = decodeEntities(value);
  }
  return { action: new URL(decodeEntities(form[1]!), base).href, fields };
}

function decodeEntities(text: string): string {
  return text.replace(/&(amp|lt|gt|quot|#39|#x2F);/g, (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#x2F': '/' })[e]!);
}
