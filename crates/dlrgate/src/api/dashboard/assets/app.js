// dlrgate dashboard: plain JavaScript, no dependencies. The key lives in sessionStorage only and
// goes out in the X-Api-Key header (never in a URL). Data is written with textContent only.
'use strict';

const STATUSES = ['PENDING', 'ACCEPTED', 'TRANSMITTED', 'BUFFERED', 'DELIVERED', 'NOTDELIVERED',
  'EXPIRED', 'REJECTED', 'FAILED', 'UNKNOWN'];
const REFRESH_MS = 2000;
const session = { key: null, admin: false, account: null, accounts: [], timer: null, lastConnectors: null };

const $ = (selector) => document.querySelector(selector);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

const pill = (text) => el('span', { class: `pill ${text}` }, text);

class ApiError extends Error {}

/** Calls the API with the session's key (and the chosen account for the administrator). */
async function api(path, options = {}) {
  const headers = { 'X-Api-Key': session.key, Accept: 'application/json' };
  if (session.admin && session.account && !options.global) headers['X-Dlrgate-Account'] = session.account.id;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method: options.method || 'GET',
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    credentials: 'omit',
    cache: 'no-store',
  });
  const text = await response.text();
  let value;
  try { value = JSON.parse(text); } catch { throw new ApiError(`HTTP ${response.status}: ${text.slice(0, 80)}`); }
  if (typeof value === 'number') {
    const why = response.headers.get('x-dlrgate-error') || 'refused';
    throw new ApiError(value === 900 ? 'invalid key' : `error ${value}: ${why}`);
  }
  if (!response.ok) throw new ApiError(value.detail || `HTTP ${response.status}`);
  return value;
}

async function login(key) {
  session.key = key;
  try {
    const { accounts } = await api('/api/dashboard/accounts', { global: true });
    session.admin = true;
    session.accounts = accounts;
    session.account = accounts[0] || null;
  } catch {
    session.admin = false;
    const { account } = await api('/api/dashboard/counts');
    session.account = account;
  }
  sessionStorage.setItem('dlrgate-key', key);
  show();
}

function logout() {
  sessionStorage.removeItem('dlrgate-key');
  clearInterval(session.timer);
  Object.assign(session, { key: null, admin: false, account: null, accounts: [], lastConnectors: null });
  $('#app').hidden = true;
  $('#who').hidden = true;
  $('#login').hidden = false;
}

function show() {
  $('#login').hidden = true;
  $('#app').hidden = false;
  $('#who').hidden = false;
  $('#connectors-card').hidden = !session.admin;
  const picker = $('#account-picker');
  picker.hidden = !session.admin;
  picker.replaceChildren(...session.accounts.map((a) => el('option', { value: a.id }, `${a.name} (#${a.id})`)));
  if (session.account) picker.value = session.account.id;
  $('#account-name').textContent = session.admin ? 'administrator' : `${session.account.name} (#${session.account.id})`;
  $('#history').hidden = true;
  refresh();
  clearInterval(session.timer);
  session.timer = setInterval(refresh, REFRESH_MS);
}

async function refresh() {
  if (!session.key) return;
  const parts = [counts(), chart(), messages(), hooks()];
  if (session.admin) parts.push(connectors());
  const results = await Promise.allSettled(parts);
  for (const result of results) {
    if (result.status === 'rejected' && String(result.reason.message) === 'invalid key') logout();
  }
}

async function counts() {
  const { counts } = await api('/api/dashboard/counts');
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const cards = [el('div', { class: 'count total' }, el('b', {}, total), el('span', {}, 'messages, 24 h'))];
  for (const status of STATUSES) {
    if (counts[status]) cards.push(el('div', { class: `count ${status}`, 'data-status': status }, el('b', {}, counts[status]), el('span', {}, status)));
  }
  $('#counts').replaceChildren(...cards);
}

async function chart() {
  const { buckets } = await api('/api/dashboard/activity?minutes=60');
  const width = 720, height = 180, left = 30, bottom = 20;
  const max = Math.max(1, ...buckets.flatMap((b) => [b.sent, b.delivered + b.failed]));
  const step = (width - left) / buckets.length;
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('preserveAspectRatio', 'none');
  const add = (tag, attrs, text) => {
    const node = document.createElementNS(ns, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    svg.append(node);
  };
  const y = (v) => height - bottom - (v / max) * (height - bottom - 10);
  add('line', { class: 'axis', x1: left, x2: width, y1: y(0), y2: y(0) });
  add('text', { x: 0, y: y(max) + 4 }, max);
  add('text', { x: 0, y: y(0) }, 0);
  buckets.forEach((b, i) => {
    const x = left + i * step;
    const w = Math.max(1, step / 2 - 1);
    add('rect', { x, y: y(b.sent), width: w, height: y(0) - y(b.sent), fill: '#2563eb' });
    add('rect', { x: x + w, y: y(b.delivered), width: w, height: y(0) - y(b.delivered), fill: '#16a34a' });
    add('rect', { x: x + w, y: y(b.delivered + b.failed), width: w, height: y(b.delivered) - y(b.delivered + b.failed), fill: '#dc2626' });
    if (i % 10 === 0) add('text', { x, y: height - 4 }, b.time.slice(11, 16));
  });
  $('#chart').replaceChildren(svg);
}

function filterQuery() {
  const query = new URLSearchParams({ limit: '50' });
  const fields = { state: '#f-state', to: '#f-to', date_from: '#f-from', date_to: '#f-until' };
  for (const [name, selector] of Object.entries(fields)) {
    const value = $(selector).value.trim();
    if (value) query.set(name, value);
  }
  return query;
}

async function messages() {
  const rows = await api(`/api/journal/outbound?${filterQuery()}`);
  $('#messages tbody').replaceChildren(...(rows.length ? rows.map((m) => el('tr',
    { class: 'clickable', 'data-id': m.id, onclick: () => history(m.id) },
    el('td', {}, m.id), el('td', {}, m.to), el('td', { class: 'text', title: m.text }, m.text),
    el('td', {}, m.timestamp), el('td', { class: 'status' }, pill(m.dlr || 'PENDING')),
    el('td', {}, m.dlr_timestamp || '')))
    : [el('tr', {}, el('td', { colspan: 6, class: 'muted' }, 'No messages match.'))]));
}

async function history(id) {
  const { events } = await api(`/api/messages/${encodeURIComponent(id)}/events`);
  const box = $('#history');
  box.hidden = false;
  box.replaceChildren(el('h3', {}, `History of message ${id}`), el('table', { class: 'table' },
    el('thead', {}, el('tr', {}, ...['Time', 'Kind', 'State', 'Effect', 'Part', 'Source', 'Error'].map((h) => el('th', {}, h)))),
    el('tbody', {}, ...events.map((e) => el('tr', {}, el('td', {}, e.time), el('td', {}, e.kind), el('td', {}, pill(e.state)),
      el('td', {}, e.effect), el('td', {}, e.part ?? ''), el('td', {}, e.source), el('td', {}, e.error_code || '')))),
  ));
}

async function hookAction(path, note) {
  try {
    // Recover reaches back 30 days: every failed or abandoned delivery the store still has.
    const body = path.endsWith('/recover') ? { since: String(Math.floor(Date.now() / 1000) - 30 * 86400) } : undefined;
    await api(path, { method: 'POST', body: body ?? {} });
    note.textContent = 'done';
  } catch (error) {
    note.textContent = error.message;
  }
  refresh();
}

async function hooks() {
  const { hooks } = await api('/api/hooks');
  const boxes = await Promise.all(hooks.map(async (hook) => {
    const [{ deliveries }, { attempts }] = await Promise.all([
      api(`/api/hooks/${hook.id}/deliveries?limit=20`), api(`/api/hooks/${hook.id}/attempts?limit=200`)]);
    const failures = attempts.filter((a) => a.error_class || !(a.http_status >= 200 && a.http_status < 300)).length;
    const note = el('span', { class: 'note' });
    const base = `/api/hooks/${hook.id}`;
    const head = el('div', { class: 'hook-head' }, el('b', {}, `#${hook.id}`), el('code', {}, hook.target_url),
      pill(hook.enabled ? 'enabled' : 'disabled'), hook.disabled_reason ? el('span', { class: 'muted' }, hook.disabled_reason) : null,
      el('span', { class: 'muted' }, `${attempts.length} attempts, ${failures} failed`), el('span', { class: 'spacer' }), note,
      hook.enabled ? null : el('button', { class: 'small', 'data-action': 'enable', onclick: () => hookAction(`${base}/enable`, note) }, 'Re-enable'),
      el('button', { class: 'small ghost', 'data-action': 'recover', onclick: () => hookAction(`${base}/recover`, note) }, 'Recover failed'));
    const rows = deliveries.map((d) => el('tr', { 'data-delivery': d.id, 'data-state': d.state },
      el('td', {}, d.id), el('td', {}, d.msg_id), el('td', {}, d.status), el('td', { class: 'state' }, pill(d.state)),
      el('td', {}, d.attempts), el('td', {}, d.last_error || ''),
      el('td', {}, d.state === 'pending' ? '' : el('button', { class: 'small ghost', 'data-action': 'resend',
        onclick: () => hookAction(`${base}/deliveries/${d.id}/resend`, note) }, 'Resend'))));
    return el('div', { class: 'hook', 'data-hook': hook.id }, head, el('table', { class: 'table' },
      el('thead', {}, el('tr', {}, ...['Delivery', 'Message', 'Status', 'State', 'Attempts', 'Last error', ''].map((h) => el('th', {}, h)))),
      el('tbody', {}, ...rows)));
  }));
  $('#hooks').replaceChildren(...(boxes.length ? boxes : [el('p', { class: 'muted' }, 'No webhooks subscribed.')]));
}

async function connectors() {
  const now = await api('/api/dashboard/connectors', { global: true });
  const before = session.lastConnectors;
  const seconds = before ? (Date.parse(now.time.replace(' ', 'T') + 'Z') - Date.parse(before.time.replace(' ', 'T') + 'Z')) / 1000 : 0;
  $('#connectors tbody').replaceChildren(...now.connectors.map((c) => {
    const old = before && before.connectors.find((o) => o.name === c.name);
    const rate = old && seconds > 0 ? `${((c.submitted_total - old.submitted_total) / seconds).toFixed(1)} msg/s` : '…';
    const binds = c.binds_up === null ? el('span', { class: 'muted' }, 'n/a') : pill(c.binds_up > 0 ? 'up' : 'down');
    return el('tr', { 'data-connector': c.name }, el('td', {}, c.name), el('td', {}, c.type),
      el('td', {}, binds, c.binds_up ? ` ${c.binds_up}` : ''), el('td', {}, c.submitted_total), el('td', {}, rate), el('td', {}, c.throttled_total));
  }));
  session.lastConnectors = now;
}

async function send(event) {
  event.preventDefault();
  const result = $('#send-result');
  try {
    const answer = await api('/api/sms', { method: 'POST', body: { to: $('#send-to').value, text: $('#send-text').value } });
    const message = answer.messages && answer.messages[0];
    result.textContent = message && message.success ? `Accepted as message ${message.id}` : `Refused: ${message ? message.error_text : answer.success}`;
    refresh();
  } catch (error) {
    result.textContent = error.message;
  }
}

document.addEventListener('DOMContentLoaded', () => {
  $('#f-state').append(...STATUSES.slice(1).map((s) => el('option', { value: s }, s)));
  $('#login-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('#login-error').textContent = '';
    try { await login($('#key').value.trim()); $('#key').value = ''; } catch (error) {
      session.key = null;
      $('#login-error').textContent = error.message === 'invalid key' ? 'That key is not valid.' : error.message;
    }
  });
  $('#logout').addEventListener('click', logout);
  $('#send-form').addEventListener('submit', send);
  $('#filters').addEventListener('submit', (event) => { event.preventDefault(); messages(); });
  $('#account-picker').addEventListener('change', (event) => {
    session.account = session.accounts.find((a) => a.id === event.target.value);
    session.lastConnectors = null;
    show();
  });
  const saved = sessionStorage.getItem('dlrgate-key');
  if (saved) login(saved).catch(logout);
});
