// The gateway console: sign-in, then five views (usage, budgets, identities, audit, health) over /console/api.
import { h, render } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import htm from 'htm';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import './app.css';

const html = htm.bind(h);

// The CSRF token lives in memory only: a page reload asks the server for it again (GET session).
let csrf = '';

class ApiFailure extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(`/console/api/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  const data = await res.json().catch(() => ({}));
  // A session that ended (expired, idle, its admin token revoked) sends the page back to sign-in.
  if (res.status === 401 && path !== 'session') window.dispatchEvent(new Event('console:signed-out'));
  if (!res.ok) throw new ApiFailure(res.status, data?.error?.message ?? `HTTP ${res.status}`);
  return data;
}

const usd = (n) => (n >= 100 ? `$${Math.round(n).toLocaleString('en-US')}` : n >= 0.01 || n === 0 ? `$${n.toFixed(2)}` : `$${Number(n.toPrecision(2))}`);
const count = (n) => (n >= 1e9 ? `${(n / 1e9).toFixed(1)}B` : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(Math.round(n)));
const time = (iso) => (iso ? iso.replace('T', ' ').slice(0, 19) : '–');
const short = (s, n = 12) => (s && s.length > n ? `${s.slice(0, n)}…` : s ?? '–');

/** Loads data for a view; `reload` re-runs it (after an action, or when parameters change). */
function useLoad(fn, deps) {
  const [state, setState] = useState({ loading: true });
  const reload = useCallback(() => {
    setState((s) => ({ ...s, loading: true }));
    fn().then((data) => setState({ data }), (error) => setState({ error }));
  }, deps);
  useEffect(reload, [reload]);
  return [state, reload];
}

function Failure({ error }) {
  return error ? html`<p class="error" role="alert">${error.message}</p>` : null;
}

// ——— Sign-in ———

function SignIn({ onSignedIn }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState();
  const [busy, setBusy] = useState(false);
  const [openid, setOpenid] = useState();
  useEffect(() => {
    api('login/options').then((o) => setOpenid(o.openid), () => undefined);
  }, []);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const s = await api('session', { method: 'POST', body: { token } });
      setToken('');
      onSignedIn(s);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <h1>claude-key-gateway console</h1>
    <p>Sign in with a token of an identity this gateway names as an admin (<code>auth.admins</code>), for example
      the output of <code>claude-key jwt --aud claude-key-gateway</code>. The token is checked once; the session lives in an HttpOnly cookie.</p>
    <form onSubmit=${submit}>
      <label for="token">Admin token</label>
      <textarea id="token" name="token" rows="4" autocomplete="off" spellcheck="false" required value=${token} onInput=${(e) => setToken(e.currentTarget.value)}></textarea>
      <button type="submit" disabled=${busy}>Sign in</button>
    </form>
    <${Failure} error=${error} />
    ${openid && html`<p class="or">or</p><a class="button" href="/console/api/login">Sign in at ${openid.issuer}</a>`}
  </main>`;
}

// ——— Charts ———

const COLORS = ['#3b6fd6', '#e07b39', '#3aa876', '#c94f7c', '#8a63d2', '#d4b13b', '#3fb6c9', '#8c8c3a', '#9aa1ad'];

/** Stacked bars: each series is drawn as the running total up to it, tallest first, so the bars stack. */
function StackedBars({ buckets, series, metric, bucket, label, format }) {
  const ref = useRef();
  useEffect(() => {
    const el = ref.current;
    if (!el || !series.length) return undefined;
    const xs = buckets.map((b) => Date.parse(bucket === 'hour' ? `${b}:00:00Z` : `${b}T00:00:00Z`) / 1000);
    const raw = series.map((s) => s[metric]);
    const stacked = [];
    let acc = xs.map(() => 0);
    for (const r of raw) {
      acc = acc.map((v, i) => v + r[i]);
      stacked.push(acc);
    }
    const order = stacked.map((_, i) => i).reverse();
    const bars = uPlot.paths.bars({ size: [0.75, 48] });
    const plot = new uPlot(
      {
        width: Math.max(el.clientWidth, 320),
        height: 280,
        scales: { x: { time: true } },
        axes: [{}, { values: (_u, vals) => vals.map(format), size: 70 }],
        legend: { live: true },
        cursor: { points: { show: false } },
        series: [
          { label: bucket === 'hour' ? 'Hour (UTC)' : 'Day (UTC)', value: (_u, v) => (v == null ? '–' : new Date(v * 1000).toISOString().slice(0, bucket === 'hour' ? 16 : 10).replace('T', ' ')) },
          ...order.map((i) => ({
            label: series[i].key,
            fill: COLORS[i % COLORS.length],
            stroke: COLORS[i % COLORS.length],
            width: 0,
            paths: bars,
            points: { show: false },
            value: (_u, _v, _si, idx) => (idx == null ? '–' : format(raw[i][idx])),
          })),
        ],
      },
      [xs, ...order.map((i) => stacked[i])],
      el,
    );
    const resize = () => plot.setSize({ width: Math.max(el.clientWidth, 320), height: 280 });
    window.addEventListener('resize', resize);
    return () => {
      window.removeEventListener('resize', resize);
      plot.destroy();
    };
  }, [buckets, series, metric, bucket]);
  if (!series.length) return html`<p class="empty">No requests in this period.</p>`;
  return html`<figure class="chart"><div ref=${ref} role="img" aria-label=${label}></div><figcaption>${label}; hover a bar for its numbers.</figcaption></figure>`;
}

function TotalsTable({ caption, rows, keyLabel }) {
  return html`<table>
    <caption>${caption}</caption>
    <thead><tr><th scope="col">${keyLabel}</th><th scope="col" class="num">Cost</th><th scope="col" class="num">Requests</th><th scope="col" class="num">Input tokens</th><th scope="col" class="num">Output tokens</th></tr></thead>
    <tbody>
      ${rows.length ? rows.slice(0, 10).map((r) => html`<tr><th scope="row">${r.key}</th><td class="num">${usd(r.costUsd)}</td><td class="num">${count(r.requests)}</td><td class="num">${count(r.inputTokens)}</td><td class="num">${count(r.outputTokens)}</td></tr>`) : html`<tr><td colspan="5">Nothing yet.</td></tr>`}
    </tbody>
  </table>`;
}

function Select({ id, label, value, options, onChange }) {
  return html`<label for=${id}>${label}
    <select id=${id} value=${value} onChange=${(e) => onChange(e.currentTarget.value)}>
      ${options.map(([v, text]) => html`<option value=${v}>${text}</option>`)}
    </select></label>`;
}

// ——— Views ———

function UsageView() {
  const [period, setPeriod] = useState('week');
  const [by, setBy] = useState('team');
  const [metric, setMetric] = useState('costUsd');
  const [state] = useLoad(async () => {
    const [team, user, model] = await Promise.all(['team', 'user', 'model'].map((d) => api(`usage?by=${d}&period=${period}`)));
    return { team, user, model };
  }, [period]);
  const shown = state.data?.[by];
  const format = metric === 'costUsd' ? usd : count;
  const metricName = { costUsd: 'Spend', tokens: 'Tokens', requests: 'Requests' }[metric];
  return html`<section aria-labelledby="usage-h">
    <h2 id="usage-h">Spend and tokens</h2>
    <div class="controls">
      <${Select} id="period" label="Period" value=${period} onChange=${setPeriod} options=${[['day', 'Last 24 hours'], ['week', 'Last 7 days'], ['month', 'Last 30 days']]} />
      <${Select} id="by" label="Group by" value=${by} onChange=${setBy} options=${[['team', 'Team'], ['user', 'User'], ['model', 'Model']]} />
      <${Select} id="metric" label="Show" value=${metric} onChange=${setMetric} options=${[['costUsd', 'Spend (USD)'], ['tokens', 'Tokens'], ['requests', 'Requests']]} />
    </div>
    <${Failure} error=${state.error} />
    ${shown && html`<${StackedBars} buckets=${shown.buckets} bucket=${shown.bucket} series=${shown.series} metric=${metric} format=${format} label=${`${metricName} per ${shown.bucket} by ${by}`} />`}
    ${state.data && html`<div class="tables">
      <${TotalsTable} caption="Top teams" keyLabel="Team" rows=${state.data.team.totals} />
      <${TotalsTable} caption="Top users" keyLabel="User" rows=${state.data.user.totals} />
      <${TotalsTable} caption="Cost per model" keyLabel="Model" rows=${state.data.model.totals} />
    </div>`}
  </section>`;
}

function Budget({ spent, limit, forecast, label }) {
  if (!limit) return html`<td class="num">${usd(spent)}</td><td class="num muted">no budget</td>`;
  const over = forecast > limit;
  return html`<td class="num">${usd(spent)} of ${usd(limit)} <meter min="0" max=${limit} value=${Math.min(spent, limit)} high=${limit * 0.8} aria-label=${`${label}: ${usd(spent)} of ${usd(limit)}`}></meter></td>
    <td class=${`num ${over ? 'warn' : ''}`}>${usd(forecast)}${over ? ' (over)' : ''}</td>`;
}

function BudgetsView() {
  const [state] = useLoad(() => api('budgets'), []);
  const d = state.data;
  return html`<section aria-labelledby="budgets-h">
    <h2 id="budgets-h">Budgets and limits</h2>
    <${Failure} error=${state.error} />
    ${d && html`<table>
      <caption>Spend against budget, with a straight-line forecast to the end of the day and month</caption>
      <thead><tr><th scope="col">Scope</th><th scope="col" class="num">Today</th><th scope="col" class="num">Forecast today</th><th scope="col" class="num">This month</th><th scope="col" class="num">Forecast month</th></tr></thead>
      <tbody>${d.scopes.map((s) => html`<tr>
        <th scope="row">${s.kind} ${s.id}</th>
        <${Budget} spent=${s.daySpentUsd} limit=${s.dailyUsd} forecast=${s.dayForecastUsd} label=${`${s.kind} ${s.id} today`} />
        <${Budget} spent=${s.monthSpentUsd} limit=${s.monthlyUsd} forecast=${s.monthForecastUsd} label=${`${s.kind} ${s.id} this month`} />
      </tr>`)}</tbody>
    </table>
    <table>
      <caption>Recent refusals: rate limits (429) and budget or policy refusals (403), last 7 days</caption>
      <thead><tr><th scope="col">Time (UTC)</th><th scope="col">Status</th><th scope="col">User</th><th scope="col">Team</th><th scope="col">Model</th><th scope="col">Request</th></tr></thead>
      <tbody>${d.refusals.length ? d.refusals.map((r) => html`<tr><td>${time(r.time)}</td><td>${r.status === 429 ? '429 rate limit' : '403 refused'}</td><td>${r.user ?? '–'}</td><td>${r.team ?? '–'}</td><td>${r.model ?? '–'}</td><td><code>${short(r.requestId, 8)}</code></td></tr>`) : html`<tr><td colspan="6">None.</td></tr>`}</tbody>
    </table>`}
  </section>`;
}

function IdentitiesView() {
  const [state, reload] = useLoad(() => api('identities'), []);
  const [message, setMessage] = useState();
  const [error, setError] = useState();
  const act = async (what, path, body) => {
    setError(undefined);
    if (!window.confirm(`${what}?`)) return;
    try {
      await api(path, { method: 'POST', body });
      setMessage(`${what}: done.`);
      reload();
    } catch (err) {
      setError(err);
    }
  };
  const d = state.data;
  return html`<section aria-labelledby="ids-h">
    <h2 id="ids-h">Identities and keys</h2>
    <${Failure} error=${state.error || error} />
    ${message && html`<p class="notice" role="status">${message}</p>`}
    ${d && html`<table>
      <caption>Enrolled per-user keys</caption>
      <thead><tr><th scope="col">Key (thumbprint)</th><th scope="col">User</th><th scope="col">Teams</th><th scope="col">Status</th><th scope="col">Expires</th><th scope="col">Decided by</th><th scope="col">Actions</th></tr></thead>
      <tbody>${d.keys.length ? d.keys.map((k) => html`<tr>
        <td><code title=${k.kid}>${short(k.kid, 16)}</code></td><td>${k.user}</td><td>${k.teams.join(', ')}</td>
        <td><span class=${`badge ${k.status}`}>${k.status}</span></td><td>${time(k.expiresAt)}</td><td>${k.decidedBy ?? '–'}</td>
        <td class="actions">
          ${k.status === 'pending' && html`<button type="button" onClick=${() => act(`Approve key ${short(k.kid, 8)} of ${k.user}`, `keys/${k.kid}/approve`, {})} aria-label=${`Approve key ${k.kid} of ${k.user}`}>Approve</button>`}
          ${k.status !== 'revoked' && html`<button type="button" class="danger" onClick=${() => act(`Revoke key ${short(k.kid, 8)} of ${k.user}`, `keys/${k.kid}/revoke`, {})} aria-label=${`Revoke key ${k.kid} of ${k.user}`}>Revoke</button>`}
        </td></tr>`) : html`<tr><td colspan="7">No enrolled keys.</td></tr>`}</tbody>
    </table>
    <table>
      <caption>Service API keys (from the config)</caption>
      <thead><tr><th scope="col">Id</th><th scope="col">User</th><th scope="col">Team</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead>
      <tbody>${d.apiKeys.length ? d.apiKeys.map((k) => html`<tr><td><code>${k.id}</code></td><td>${k.user}</td><td>${k.team}</td><td><span class=${`badge ${k.revoked ? 'revoked' : 'active'}`}>${k.revoked ? 'revoked' : 'active'}</span></td>
        <td class="actions">${!k.revoked && html`<button type="button" class="danger" onClick=${() => act(`Revoke API key ${k.id}`, 'revocations', { kind: 'api-key', value: k.id })} aria-label=${`Revoke API key ${k.id}`}>Revoke</button>`}</td></tr>`) : html`<tr><td colspan="5">No API keys.</td></tr>`}</tbody>
    </table>
    <table>
      <caption>Trust sources</caption>
      <thead><tr><th scope="col">Issuer</th><th scope="col">Trust</th><th scope="col">May assert subjects</th><th scope="col">Teams</th></tr></thead>
      <tbody>${d.issuers.map((i) => html`<tr><td>${i.issuer}</td><td>${i.trust}${i.approveEnrollment ? ' (approves enrollments)' : ''}</td><td>${i.subjects?.join(', ') ?? (i.trust === 'enrolled' ? 'the key\u2019s user' : 'any')}</td><td>${i.teams?.join(', ') ?? '–'}</td></tr>`)}</tbody>
    </table>
    <form class="controls" aria-label="Revoke a credential or identity" onSubmit=${(e) => {
      e.preventDefault();
      const f = new FormData(e.currentTarget);
      act(`Revoke ${f.get('kind')} ${f.get('value')}`, 'revocations', { kind: f.get('kind'), value: f.get('value'), reason: f.get('reason') || undefined });
    }}>
      <label for="revoke-kind">Kind
        <select id="revoke-kind" name="kind">
          <option value="subject">identity (source and subject)</option>
          <option value="jti">token id (jti)</option>
          <option value="key">enrolled key (kid)</option>
          <option value="api-key">API key id</option>
        </select></label>
      <label for="revoke-value">Value <input id="revoke-value" name="value" required placeholder="https://login.example.com alice" size="36" /></label>
      <label for="revoke-reason">Reason <input id="revoke-reason" name="reason" placeholder="left the company" /></label>
      <button type="submit" class="danger">Revoke</button>
    </form>
    <table>
      <caption>Revocations</caption>
      <thead><tr><th scope="col">Kind</th><th scope="col">Value</th><th scope="col">Reason</th><th scope="col">By</th><th scope="col">When (UTC)</th></tr></thead>
      <tbody>${d.revocations.length ? d.revocations.map((r) => html`<tr><td>${r.kind}</td><td><code title=${r.value}>${short(r.value, 32)}</code></td><td>${r.reason ?? '–'}</td><td>${r.revokedBy}</td><td>${time(r.createdAt)}</td></tr>`) : html`<tr><td colspan="5">None.</td></tr>`}</tbody>
    </table>`}
  </section>`;
}

const AUDIT_FIELDS = [['user', 'User'], ['team', 'Team'], ['model', 'Model'], ['status', 'Status'], ['from', 'From (UTC)'], ['to', 'To (UTC)']];

/**
 * Who a request refused at authentication said it was: never shown as a user, since nothing in a
 * refused credential was verified. The issuer, key id and reason are one hover away.
 */
function Refused({ refusal }) {
  if (!refusal) return '–';
  const c = refusal.claimed ?? {};
  const detail = [`credential: ${refusal.credential}`, c.issuer && `claimed issuer: ${c.issuer}`, c.keyId && `claimed key id: ${c.keyId}`, `refused: ${refusal.reason}`].filter(Boolean).join('\n');
  return html`<span class="claimed" title=${detail}>${c.subject ? `claimed: ${c.subject} (unverified)` : `${refusal.credential === 'none' ? 'no credential' : refusal.credential} (refused)`}</span>`;
}

function AuditView() {
  const [form, setForm] = useState({});
  const [query, setQuery] = useState('');
  const [state] = useLoad(() => api(`audit${query ? `?${query}` : ''}`), [query]);
  const [chain, setChain] = useState();
  const verify = async () => {
    setChain({ checking: true });
    try {
      setChain(await api('audit/verify'));
    } catch (error) {
      setChain({ error });
    }
  };
  const search = (e) => {
    e.preventDefault();
    const q = new URLSearchParams(Object.entries(form).filter(([, v]) => v));
    setQuery(q.toString());
  };
  return html`<section aria-labelledby="audit-h">
    <h2 id="audit-h">Audit log</h2>
    <p class="chain" role="status">Hash chain: ${
      !chain ? 'not verified in this session' : chain.checking ? 'verifying…' : chain.error ? html`<span class="warn">${chain.error.message}</span>` : chain.ok ? html`<span class="ok">verified, ${chain.records} records intact</span> (checked ${time(chain.checkedAt)})` : html`<span class="warn">BROKEN at record ${chain.seq}: ${chain.problem}</span>`
    } <button type="button" onClick=${verify}>Verify the whole chain</button></p>
    <form class="controls" onSubmit=${search} aria-label="Search the audit log">
      ${AUDIT_FIELDS.map(([name, label]) => html`<label for=${`audit-${name}`}>${label}
        <input id=${`audit-${name}`} name=${name} type=${name === 'from' || name === 'to' ? 'datetime-local' : 'text'} inputmode=${name === 'status' ? 'numeric' : undefined} value=${form[name] ?? ''} onInput=${(e) => setForm({ ...form, [name]: e.currentTarget.value })} /></label>`)}
      <button type="submit">Search</button>
      <a class="button" href=${`/console/api/audit/export${query ? `?${query}` : ''}`} download>Export these (JSON Lines)</a>
    </form>
    <${Failure} error=${state.error} />
    ${state.data && html`<table class="audit">
      <caption>${state.data.entries.length} newest matching records</caption>
      <thead><tr><th scope="col">#</th><th scope="col">Time (UTC)</th><th scope="col">What</th><th scope="col">User / by</th><th scope="col">Team</th><th scope="col">Model</th><th scope="col">Status</th><th scope="col">Request</th><th scope="col">Hash</th></tr></thead>
      <tbody>${state.data.entries.map((e) => {
        const r = JSON.parse(e.body);
        return html`<tr><td>${e.seq}</td><td>${time(r.time)}</td><td>${r.event ?? r.format}</td><td>${r.user ?? r.by ?? html`<${Refused} refusal=${r.refusal} />`}</td><td>${r.team ?? '–'}</td><td>${r.model ?? '–'}</td><td>${r.status ?? '–'}</td><td><code title=${r.requestId ?? r.kid ?? ''}>${short(r.requestId ?? r.kid ?? '', 8)}</code></td><td><code title=${e.hash}>${e.hash.slice(0, 10)}</code></td></tr>`;
      })}</tbody>
    </table>`}
  </section>`;
}

function HealthView() {
  const [state, reload] = useLoad(() => api('health'), []);
  const d = state.data;
  return html`<section aria-labelledby="health-h">
    <h2 id="health-h">Health</h2>
    <button type="button" onClick=${reload}>Refresh</button>
    <${Failure} error=${state.error} />
    ${d && html`<dl class="status">
      <dt>Store</dt><dd><span class=${d.store.ok ? 'ok' : 'warn'}>${d.store.ok ? 'up' : `down: ${d.store.error}`}</span> (${d.store.kind}, ${d.store.latencyMs} ms, ${d.store.pendingRecords} records queued)</dd>
      <dt>Redis</dt><dd>${d.redis.configured ? html`<span class=${d.redis.ok ? 'ok' : 'warn'}>${d.redis.ok ? 'up' : 'down'}</span> (${d.redis.status}, ${d.redis.latencyMs} ms)` : 'not configured (budgets and limits are per replica)'}</dd>
    </dl>
    <table>
      <caption>Deployments, last hour: error rate counts 5xx, 529 and streams cut (499)</caption>
      <thead><tr><th scope="col">Upstream</th><th scope="col">Deployment</th><th scope="col" class="num">Requests</th><th scope="col" class="num">Errors</th><th scope="col" class="num">Error rate</th><th scope="col" class="num">Mean latency</th></tr></thead>
      <tbody>${d.lastHour.length ? d.lastHour.map((u) => html`<tr><td>${u.upstream}</td><td>${u.deployment}</td><td class="num">${u.requests}</td><td class="num">${u.errors}</td><td class=${`num ${u.errors / u.requests > 0.05 ? 'warn' : ''}`}>${((100 * u.errors) / u.requests).toFixed(1)}%</td><td class="num">${u.meanLatencyMs ?? '–'} ms</td></tr>`) : html`<tr><td colspan="6">No upstream traffic in the last hour.</td></tr>`}</tbody>
    </table>
    <table>
      <caption>Fallbacks since this replica started: answered by another deployment after the first one failed</caption>
      <thead><tr><th scope="col">First tried</th><th scope="col">Answered by</th><th scope="col" class="num">Requests</th></tr></thead>
      <tbody>${d.fallbacks.length ? d.fallbacks.map((f) => html`<tr><td>${f.from}</td><td>${f.to}</td><td class="num">${f.requests}</td></tr>`) : html`<tr><td colspan="3">None.</td></tr>`}</tbody>
    </table>
    <table>
      <caption>Model groups and their deployments (first is drawn by weight, the rest are fallbacks)</caption>
      <thead><tr><th scope="col">Model</th><th scope="col">Deployments</th></tr></thead>
      <tbody>${d.models.length ? d.models.map((m) => html`<tr><td>${m.name}</td><td>${m.deployments.join(' → ')}</td></tr>`) : html`<tr><td colspan="2">No model groups; routes: ${d.upstreams.map((u) => `${u.name} (${u.type})`).join(', ')}</td></tr>`}</tbody>
    </table>`}
  </section>`;
}

const VIEWS = [
  ['usage', 'Usage', UsageView],
  ['budgets', 'Budgets', BudgetsView],
  ['identities', 'Identities', IdentitiesView],
  ['audit', 'Audit', AuditView],
  ['health', 'Health', HealthView],
];

const currentView = () => (VIEWS.find(([id]) => `#${id}` === location.hash) ?? VIEWS[0])[0];

function Console({ session, onSignedOut }) {
  const [view, setView] = useState(currentView());
  useEffect(() => {
    const onHash = () => setView(currentView());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);
  const signOut = async () => {
    await api('session', { method: 'DELETE' }).catch(() => undefined);
    csrf = '';
    onSignedOut();
  };
  const [, , View] = VIEWS.find(([id]) => id === view);
  return html`<div class="shell">
    <header>
      <h1>claude-key-gateway</h1>
      <nav aria-label="Console views"><ul>
        ${VIEWS.map(([id, label]) => html`<li><a href=${`#${id}`} aria-current=${id === view ? 'page' : undefined}>${label}</a></li>`)}
      </ul></nav>
      <p class="who">Signed in as <strong>${session.identity}</strong> <button type="button" onClick=${signOut}>Sign out</button></p>
    </header>
    <main><${View} key=${view} /></main>
  </div>`;
}

function App() {
  const [session, setSession] = useState();
  const [checked, setChecked] = useState(false);
  useEffect(() => {
    api('session').then(
      (s) => {
        csrf = s.csrf;
        setSession(s);
      },
      () => undefined,
    ).finally(() => setChecked(true));
  }, []);
  useEffect(() => {
    const signedOut = () => {
      csrf = '';
      setSession(undefined);
    };
    window.addEventListener('console:signed-out', signedOut);
    return () => window.removeEventListener('console:signed-out', signedOut);
  }, []);
  if (!checked) return html`<p class="loading">Loading…</p>`;
  if (!session) return html`<${SignIn} onSignedIn=${(s) => { csrf = s.csrf; setSession(s); }} />`;
  return html`<${Console} session=${session} onSignedOut=${() => setSession(undefined)} />`;
}

render(html`<${App} />`, document.getElementById('app'));
