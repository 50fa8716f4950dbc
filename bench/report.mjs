// Prints the markdown table of loadgen.mjs rows:  node bench/report.mjs ROW.json...
// A file ROW.rss next to ROW.json (the gateway processes' summed peak RSS in MiB) adds that column.

import fs from 'node:fs';

const num = (x, digits = 0) =>
  x == null || Number.isNaN(x)
    ? '–'
    : Number(x).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (x) => (x == null ? '–' : x < 10 ? num(x, 1) : num(x));

const lines = [
  '| gateway | messages | sends/s | ack p50 / p99 ms | final callbacks/s | send→final p50 ms | send→final p99 ms | lost | send errors | peak RSS MiB |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const file of process.argv.slice(2)) {
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  const rssFile = file.replace(/\.json$/, '.rss');
  const rss = fs.existsSync(rssFile) ? Number(fs.readFileSync(rssFile, 'utf8').trim()) : null;
  lines.push(
    `| ${r.label} | ${num(r.messages)} | ${num(r.sends_per_s)} | ${ms(r.ack_p50_ms)} / ${ms(r.ack_p99_ms)} | ` +
      `${num(r.finals_per_s)} | ${ms(r.final_p50_ms)} | ${ms(r.final_p99_ms)} | ${num(r.lost)} | ` +
      `${num(r.send_errors)} | ${rss == null ? '–' : num(rss)} |`,
  );
}
console.log(lines.join('\n'));
