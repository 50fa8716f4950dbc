// Status-callback receiver shared by both gateways (loopback only, no dependencies).
//
//   node bench/receiver.mjs --port 0 [--host 127.0.0.1]
//
// Prints `receiver listening on http://HOST:PORT` once listening. Endpoints:
//   GET  /kannel?id=<our id>&type=<%d>   Kannel dlr-url callback. Final: type 1 (delivered),
//                                        2 (failed), 16 (rejected by the SMSC).
//   POST /dlrgate                        dlrgate webhook (JSON: {"webhook_event":"dlr","data":
//                                        {"msg_id","status",...}}). Final: any status other than
//                                        ACCEPTED, TRANSMITTED, BUFFERED.
//   GET  /_stats                         {"callbacks","finals","duplicate_finals","bad"}
//   GET  /_finals                        {"<id>": [arrival_ns, "<status>"], ...} first final per id
// Arrival times are process.hrtime (CLOCK_MONOTONIC) in ns, the same clock loadgen.mjs uses.
// Every callback is answered 200 at once.

import http from 'node:http';

const KANNEL_FINAL = new Set(['1', '2', '16']);
const DLRGATE_NON_FINAL = new Set(['ACCEPTED', 'TRANSMITTED', 'BUFFERED']);

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

const finals = new Map(); // id -> [arrival_ns (string), status]
const stats = { callbacks: 0, finals: 0, duplicate_finals: 0, bad: 0 };

function final(id, status, now) {
  if (finals.has(id)) {
    stats.duplicate_finals++;
    return;
  }
  finals.set(id, [now.toString(), status]);
  stats.finals++;
}

function reply(res, code, body = '', type = 'text/plain') {
  res.writeHead(code, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const now = process.hrtime.bigint();
  const url = new URL(req.url, 'http://x');
  if (req.method === 'GET' && url.pathname === '/kannel') {
    stats.callbacks++;
    const id = url.searchParams.get('id');
    const type = url.searchParams.get('type');
    if (!id || !type) stats.bad++;
    else if (KANNEL_FINAL.has(type)) final(id, type, now);
    return reply(res, 200, 'ok');
  }
  if (req.method === 'POST' && url.pathname === '/dlrgate') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      stats.callbacks++;
      try {
        const event = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const id = event?.data?.msg_id;
        const status = event?.data?.status;
        if (id == null || !status) stats.bad++;
        else if (!DLRGATE_NON_FINAL.has(status)) final(String(id), status, now);
      } catch {
        stats.bad++;
      }
      reply(res, 200, 'ok');
    });
    return;
  }
  if (req.method === 'GET' && url.pathname === '/_stats') {
    return reply(res, 200, JSON.stringify(stats), 'application/json');
  }
  if (req.method === 'GET' && url.pathname === '/_finals') {
    return reply(res, 200, JSON.stringify(Object.fromEntries(finals)), 'application/json');
  }
  reply(res, 404, 'not found');
});

server.keepAliveTimeout = 120_000;
server.headersTimeout = 125_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;
const host = arg('host', '127.0.0.1');
server.listen(Number(arg('port', '0')), host, () => {
  console.log(`receiver listening on http://${host}:${server.address().port}`);
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
