// Drives dlrgate's /dashboard in headless Chromium (the Debian package's /usr/bin/chromium,
// through playwright-core; Playwright's own browsers are never downloaded). Run by
// crates/dlrgate/tests/it/dashboard.rs in two phases around a receiver that first fails:
//   node dashboard.mjs send   URL  → logs in with the account key, sends a message from the form,
//                                    sees it DELIVERED with its history and a failed webhook
//                                    delivery; prints {"message": ID}
//   node dashboard.mjs replay URL  → resends the failed delivery and sees it delivered; the
//                                    second account's key sees none of it; the admin sees both.
// Keys come from DASH_KEY, DASH_OTHER_KEY, DASH_ADMIN_KEY; screenshots go to DASH_SHOTS.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const [phase, base] = process.argv.slice(2);
const { DASH_KEY, DASH_OTHER_KEY, DASH_ADMIN_KEY, DASH_SHOTS, DASH_MESSAGE } = process.env;
const DEADLINE = 30_000;

function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
}

async function login(page, key) {
  await page.goto(`${base}/dashboard`);
  await page.fill('#key', key);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('#app:not([hidden])', { timeout: DEADLINE });
  check(!page.url().includes(key), 'the key is not in the URL');
  check(await page.evaluate((k) => sessionStorage.getItem('dlrgate-key') === k && localStorage.length === 0, key),
    'the key is in sessionStorage only');
}

async function logout(page) {
  await page.click('#logout');
  await page.waitForSelector('#login:not([hidden])', { timeout: DEADLINE });
}

const row = (id) => `#messages tbody tr[data-id="${id}"]`;

async function send(page) {
  await login(page, DASH_KEY);
  await page.fill('#send-to', '491701234561');
  await page.fill('#send-text', 'Hello from the dashboard test');
  await page.click('#send-form button[type=submit]');
  const result = await page.waitForSelector('#send-result:text-matches("Accepted as message")', { timeout: DEADLINE });
  const id = (await result.textContent()).match(/message (\d+)/)[1];
  await page.waitForSelector(`${row(id)} .status .pill.DELIVERED`, { timeout: DEADLINE });
  await page.click(row(id));
  await page.waitForSelector('#history:not([hidden]) .pill.DELIVERED', { timeout: DEADLINE });
  check((await page.textContent('#history')).includes('queued'), 'the history starts with queued');
  await page.waitForSelector('#hooks tr[data-state="failed"] button[data-action="resend"]', { timeout: DEADLINE });
  await page.waitForSelector('.count.DELIVERED', { timeout: DEADLINE });
  await page.screenshot({ path: join(DASH_SHOTS, 'account-failed-webhook.png'), fullPage: true });
  console.log(JSON.stringify({ message: id }));
}

async function replay(page) {
  await login(page, DASH_KEY);
  const failed = await page.waitForSelector('#hooks tr[data-state="failed"]', { timeout: DEADLINE });
  const delivery = await failed.getAttribute('data-delivery');
  await page.click(`#hooks tr[data-delivery="${delivery}"] button[data-action="resend"]`);
  await page.waitForSelector(`#hooks tr[data-delivery="${delivery}"][data-state="delivered"]`, { timeout: DEADLINE });
  await page.screenshot({ path: join(DASH_SHOTS, 'account-resent.png'), fullPage: true });
  await logout(page);

  await login(page, DASH_OTHER_KEY);
  await page.waitForSelector('#messages tbody td.muted', { timeout: DEADLINE });
  check((await page.$(row(DASH_MESSAGE))) === null, "the second account does not see the first's message");
  check((await page.$$('#hooks .hook')).length === 0, "the second account sees no hooks of the first");
  await logout(page);

  await login(page, DASH_ADMIN_KEY);
  const accounts = await page.$$eval('#account-picker option', (options) => options.map((o) => o.value));
  check(accounts.length === 2, `the administrator sees both accounts: ${accounts}`);
  await page.waitForSelector(row(DASH_MESSAGE), { timeout: DEADLINE });
  await page.waitForSelector('#connectors tr[data-connector="sandbox"]', { timeout: DEADLINE });
  await page.waitForSelector('#hooks tr[data-state="delivered"]', { timeout: DEADLINE });
  await page.screenshot({ path: join(DASH_SHOTS, 'admin.png'), fullPage: true });
  await page.selectOption('#account-picker', accounts[1]);
  await page.waitForSelector('#messages tbody td.muted', { timeout: DEADLINE });
  check((await page.$(row(DASH_MESSAGE))) === null, "the second account's view has not the first's message");
}

mkdirSync(DASH_SHOTS, { recursive: true });
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const problems = [];
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().includes('favicon')) problems.push(`console: ${message.text()}`);
  });
  await (phase === 'send' ? send(page) : replay(page));
  check(problems.length === 0, `no script errors or CSP violations: ${problems.join('; ')}`);
} catch (error) {
  console.error(error);
  process.exitCode = 1;
} finally {
  await browser.close();
}
