// Load generator shared by both gateways (loopback only, no dependencies).
//
//   node bench/loadgen.mjs --gateway kannel|dlrgate --url BASE[,BASE...] --receiver RECV_BASE \
//     [--key API_KEY] [--kannel-user U --kannel-pass P] [--dlr-mask 31] [--messages 20000] [--concurrency 64] \
//     [--timeout 120] [--label NAME] [--out row.json]
//
// Sends --messages single-recipient SMS with --concurrency requests in flight (one HTTP/1.1
// keep-alive connection per in-flight request), records for every message the time its request
// started, then waits (at most --timeout seconds after the last answer) until the receiver
// (receiver.mjs) has a final status callback for every accepted message. Prints one JSON row.
//
// Kannel:  GET  /cgi-bin/sendsms?...&dlr-mask=31&dlr-url=RECV/kannel?id=<our id>&type=%d
//          accepted = HTTP 202; correlated by our own id. Several BASEs (smsboxes) are used
//          round-robin by the concurrent workers.
// dlrgate: POST /api/sms (form: to, text, from; X-Api-Key; Accept: application/json)
//          accepted = messages[0].success; correlated by the id it returns.
//
// Recipients end in 1..5, which the SMSC simulator delivers (DELIVRD) for both gateways.

import http from 'node:http';
import fs from 'node:fs';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const gateway = arg('gateway');
const bases = String(arg('url', '')).split(',').filter(Boolean);
const receiver = arg('receiver');
const key = arg('key', '');
const kannelUser = arg('kannel-user', 'bench');
const kannelPass = arg('kannel-pass', 'bench');
const dlrMask = String(arg('dlr-mask', '31'));
const messages = Number(arg('messages', '20000'));
const concurrency = Number(arg('concurrency', '64'));
const timeoutS = Number(arg('timeout', '120'));
const label = arg('label', gateway);
const out = arg('out');
if (!['kannel', 'dlrgate'].includes(gateway) || !bases.length || !receiver) {
  console.error('usage: loadgen.mjs --gateway kannel|dlrgate --url BASE --receiver URL [...]');
  process.exit(2);
}

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, keepAliveMsecs: 10_000 });

function request(url, { method = 'GET', headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent, timeout: 30_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('request timeout (30 s)')));
    req.on('error', reject);
    if (body) req.write(body);
    req.end();
  });
}

const recipient = (n) => `49170${String(n).padStart(6, '0')}${1 + (n % 5)}`;
const text = (n) => `bench message ${n}`;

// One message: returns the id the receiver will report, or throws.
async function sendKannel(base, n) {
  const ourId = String(n);
  const dlrUrl = `${receiver}/kannel?id=${ourId}&type=%d`;
  const q = new URLSearchParams({
    username: kannelUser, password: kannelPass, from: 'bench', to: recipient(n), text: text(n),
    'dlr-mask': dlrMask, 'dlr-url': dlrUrl,
  });
  const res = await request(`${base}/cgi-bin/sendsms?${q}`);
  if (res.status !== 202) throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
  return ourId;
}

async function sendDlrgate(base, n) {
  const body = new URLSearchParams({ to: recipient(n), text: text(n), from: 'bench' }).toString();
  const res = await request(`${base}/api/sms`, {
    method: 'POST',
    body,
    headers: {
      'x-api-key': key, accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded', 'content-length': Buffer.byteLength(body),
    },
  });
  let answer;
  try { answer = JSON.parse(res.body); } catch { answer = null; }
  const m = answer?.messages?.[0];
  if (res.status !== 200 || !m?.success || m.id == null) {
    throw new Error(`HTTP ${res.status}: ${res.body.slice(0, 200)}`);
  }
  return String(m.id);
}

const send = gateway === 'kannel' ? sendKannel : sendDlrgate;
const sent = new Map(); // receiver id -> send start (ns, bigint)
const acks = []; // ms
const errors = [];
let next = 0;
let firstSend = null;
let lastAck = 0n;

async function worker(w) {
  const base = bases[w % bases.length];
  for (;;) {
    const n = next++;
    if (n >= messages) return;
    const t0 = process.hrtime.bigint();
    if (firstSend === null) firstSend = t0;
    try {
      const id = await send(base, n);
      const t1 = process.hrtime.bigint();
      sent.set(id, t0);
      acks.push(Number(t1 - t0) / 1e6);
      if (t1 > lastAck) lastAck = t1;
    } catch (e) {
      errors.push(String(e?.message ?? e));
    }
  }
}

const getJson = async (path) => JSON.parse((await request(`${receiver}${path}`)).body);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const progress = setInterval(() => {
  process.stderr.write(`  ${label}: ${sent.size} accepted, ${errors.length} errors\r`);
}, 2000);
await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
clearInterval(progress);
const sendsDone = process.hrtime.bigint();
process.stderr.write(`  ${label}: ${sent.size} accepted, ${errors.length} errors; waiting for final callbacks\n`);

const deadline = sendsDone + BigInt(timeoutS * 1e9);
let stats;
for (;;) {
  stats = await getJson('/_stats');
  if (stats.finals >= sent.size || process.hrtime.bigint() > deadline) break;
  await sleep(200);
}
const finals = await getJson('/_finals');

const latencies = [];
let lastFinal = 0n;
let matched = 0;
const outcomes = {};
for (const [id, t0] of sent) {
  const f = finals[id];
  if (!f) continue;
  const at = BigInt(f[0]);
  matched++;
  outcomes[f[1]] = (outcomes[f[1]] ?? 0) + 1;
  latencies.push(Number(at - t0) / 1e6);
  if (at > lastFinal) lastFinal = at;
}
const pct = (xs, p) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
};
const secs = (a, b) => Number(b - a) / 1e9;
const row = {
  label,
  gateway,
  messages,
  concurrency,
  accepted: sent.size,
  send_errors: errors.length,
  first_errors: [...new Set(errors)].slice(0, 5),
  send_seconds: firstSend && lastAck ? secs(firstSend, lastAck) : null,
  sends_per_s: firstSend && lastAck ? sent.size / secs(firstSend, lastAck) : 0,
  ack_p50_ms: pct(acks, 50),
  ack_p99_ms: pct(acks, 99),
  finals: matched,
  finals_per_s: matched && lastFinal > firstSend ? matched / secs(firstSend, lastFinal) : 0,
  final_p50_ms: pct(latencies, 50),
  final_p99_ms: pct(latencies, 99),
  final_max_ms: latencies.length ? Math.max(...latencies) : null,
  lost: messages - matched,
  outcomes,
  receiver: stats,
  loadgen_cpu_s: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
};
if (out) fs.writeFileSync(out, JSON.stringify(row, null, 1));
console.log(JSON.stringify(row));
agent.destroy();
