// The real-browser end-to-end test: coropush serves the dashboard, headless Chromium drives it
// through playwright-core. Every wait is for a condition on the page, with a deadline.
//
//   node e2e.mjs <coropush executable> <web root> <artifacts dir>
//
// Steps: the demo messages in order; the seed page (the project's origin) against a server on
// port 1337; a topic message from one page to another; a job's bar to 100%; and a job that
// survives the server dropping the page's connection.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [coropushPath, webRoot, artifacts] = process.argv.slice(2);
const ADMIN_TOKEN = 'e2e-admin-token';
const WAIT = 15_000;
const WELCOME = '欢迎你朋友！';
const NOTICE = '朋友，既然来就多看看！';

if (!coropushPath || !webRoot || !artifacts) {
  console.error('usage: node e2e.mjs <coropush> <web root> <artifacts dir>');
  process.exit(2);
}
if (!existsSync(path.join(here, 'node_modules', 'playwright-core'))) {
  console.error('playwright-core is not installed: run scripts/install-deps.sh test (or npm ci in tests/browser)');
  process.exit(1);
}
const { chromium } = await import('playwright-core');

// The whole run is bounded, whatever happens.
const overall = setTimeout(() => {
  console.error('FAIL: the browser test did not finish within 90 s');
  process.exit(1);
}, 90_000);

function findBrowser() {
  const candidates = [
    process.env.CHROMIUM_PATH,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
    '/usr/bin/google-chrome',
    '/usr/bin/google-chrome-stable',
  ];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) throw new Error('no Chromium found: install the chromium package or set CHROMIUM_PATH');
  return found;
}

// Starts coropush and resolves once its log says where it listens.
async function startServer(args) {
  const child = spawn(coropushPath, ['--log-level', 'info', ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`coropush did not start:\n${log}`)), 10_000);
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk) => {
      log += chunk;
      const match = log.match(/listening on \S+:(\d+)/);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`coropush exited with ${code}:\n${log}`)));
  });
  return {
    port,
    log: () => log,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
    },
  };
}

function portIsFree(port) {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

function check(condition, message) {
  if (!condition) throw new Error(message);
}

mkdirSync(artifacts, { recursive: true });
const servers = [];
const failures = [];
let browser;
let shot = 0;

async function step(name, page, body) {
  const started = Date.now();
  try {
    await body();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failures.push(name);
    console.log(`FAIL ${name}: ${error.message}`);
  } finally {
    if (page) {
      shot += 1;
      const file = path.join(artifacts, `${String(shot).padStart(2, '0')}-${name.replace(/\W+/g, '-')}.png`);
      await page.screenshot({ path: file, fullPage: true }).catch(() => {});
    }
  }
}

async function openDashboard(context, port) {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.log(`  page error: ${error.message}`));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForSelector('#status[data-state="open"]', { timeout: WAIT });
  return page;
}

try {
  const server = await startServer([
    '--port', '0', '--web-root', webRoot, '--admin-token', ADMIN_TOKEN, '--push-delay', '1s',
  ]);
  servers.push(server);
  browser = await chromium.launch({
    executablePath: findBrowser(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });

  // 1. The demo: the welcome, then the notice a second later, in that order (keyboard only).
  const pageA = await openDashboard(context, server.port);
  await step('demo messages appear in order', pageA, async () => {
    await pageA.focus('#run');
    await pageA.keyboard.press('Enter');
    await pageA.waitForFunction(() => document.querySelectorAll('#demo-log li').length >= 2, null, { timeout: WAIT });
    const lines = await pageA.$$eval('#demo-log li', (items) => items.map((li) => li.textContent));
    check(JSON.stringify(lines) === JSON.stringify([WELCOME, NOTICE]), `got ${JSON.stringify(lines)}`);
  });

  // 2. The seed page: a plain WebSocket to ws://localhost:1337, no subprotocol, as the original.
  const seedPage = await context.newPage();
  await step('the seed page works against coropush on port 1337', seedPage, async () => {
    check(await portIsFree(1337), 'port 1337 is in use: stop what runs there (the seed page hard-codes it)');
    const seedServer = await startServer(['--port', '1337', '--web-root', path.join(here, 'pages')]);
    servers.push(seedServer);
    await seedPage.goto('http://localhost:1337/seed.html');
    await seedPage.click('text=Run WebSocket');
    await seedPage.waitForFunction(
      (notice) => document.getElementById('content').innerText.includes(notice), NOTICE, { timeout: WAIT });
    const text = await seedPage.$eval('#content', (content) => content.innerText);
    check(text.includes(`${WELCOME}\n${NOTICE}`), `the seed page shows ${JSON.stringify(text)}`);
    await seedServer.stop();
  });

  // 3. Topics: a message published on one page reaches a second page subscribed to the topic.
  const pageB = await openDashboard(context, server.port);
  await step('a published message reaches the other page', pageB, async () => {
    await pageB.fill('#topic', 'e2e-chat');
    await pageB.click('#subscribe-form button[type=submit]');
    await pageB.waitForFunction(
      () => document.getElementById('subscriptions').textContent.includes('e2e-chat'), null, { timeout: WAIT });
    await pageA.fill('#publish-topic', 'e2e-chat');
    await pageA.fill('#publish-text', 'hello from page A');
    await pageA.press('#publish-text', 'Enter');
    await pageB.waitForFunction(
      () => document.getElementById('messages').textContent.includes('e2e-chat: hello from page A'), null,
      { timeout: WAIT });
    await pageA.waitForFunction(
      () => document.getElementById('topics-status').textContent.includes('delivered to 1'), null, { timeout: WAIT });
  });

  // 4. A job's bar reaches 100%.
  await step('a job bar reaches 100 percent', pageA, async () => {
    await pageA.selectOption('#job-kind', 'sample');
    await pageA.fill('#job-steps', '5');
    await pageA.fill('#job-step-ms', '50');
    await pageA.fill('#job-label', 'quick');
    await pageA.click('#job-form button[type=submit]');
    await pageA.waitForSelector('.job[data-state="done"]', { timeout: WAIT });
    const value = await pageA.$eval('.job[data-state="done"] progress', (bar) => bar.value);
    check(value === 100, `the bar stopped at ${value}`);
  });

  // 5. The server drops the page's connection mid-job: the page reconnects, resumes the job, and
  //    the bar goes on from where it was (it never moves back) to 100%.
  await step('a job survives a dropped connection', pageA, async () => {
    await pageA.fill('#job-steps', '30');
    await pageA.fill('#job-step-ms', '100');
    await pageA.fill('#job-label', 'long');
    await pageA.click('#job-form button[type=submit]');
    const row = '.job[data-state="running"]';
    await pageA.waitForSelector(row, { timeout: WAIT });
    // Record every value the bar shows, from now on.
    await pageA.evaluate(() => {
      const bar = [...document.querySelectorAll('.job')].find((j) => j.dataset.state === 'running')
        .querySelector('progress');
      window.e2eValues = [bar.value];
      new MutationObserver(() => window.e2eValues.push(bar.value)).observe(bar, { attributes: true });
    });
    await pageA.waitForFunction(() => window.e2eValues.at(-1) >= 20, null, { timeout: WAIT });

    const reconnectsBefore = await pageA.$eval('#status', (s) => Number(s.dataset.reconnects || 0));
    const answer = await fetch(`http://127.0.0.1:${server.port}/admin/disconnect?how=drop`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    check(answer.ok, `the admin endpoint answered ${answer.status}`);
    await pageA.waitForFunction(
      (before) => {
        const status = document.getElementById('status');
        return status.dataset.state === 'open' && Number(status.dataset.reconnects) > before;
      },
      reconnectsBefore, { timeout: WAIT });
    await pageA.waitForFunction(
      () => [...document.querySelectorAll('.job')].some((j) => j.textContent.includes('long') && j.dataset.state === 'done'),
      null, { timeout: WAIT });
    const values = await pageA.evaluate(() => window.e2eValues);
    const backwards = values.findIndex((v, i) => i > 0 && v < values[i - 1]);
    check(backwards === -1, `the bar went back: ${JSON.stringify(values)}`);
    check(values.at(-1) === 100, `the bar ended at ${values.at(-1)}`);
    console.log(`     bar values seen: ${values.join(' ')}`);
  });
} catch (error) {
  failures.push('setup');
  console.log(`FAIL setup: ${error.stack || error.message}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  for (const server of servers) await server.stop().catch(() => {});
  clearTimeout(overall);
}

if (failures.length > 0) {
  console.log(`${failures.length} step(s) failed: ${failures.join(', ')} (screenshots in ${artifacts})`);
  process.exit(1);
}
console.log(`all steps passed (screenshots in ${artifacts})`);
