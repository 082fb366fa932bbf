// The real-browser end-to-end test: coropush serves the dashboard, headless Chromium drives it
// through playwright-core. Every wait is for a condition on the page, with a deadline.
//
//   node e2e.mjs <coropush executable> <web root> <artifacts dir>
//
// Steps: the demo messages in order; Chromium negotiating permessage-deflate (the dashboard's
// servers run with --deflate); the seed's page (web/original.html, unmodified) against a server
// started as scripts/run.sh starts it (no flag, port 1337), loaded over HTTP and from disk; a page
// from disk refused by the JSON dialect; a topic message from one page to another; a job's bar to
// 100%; a job that survives the server dropping the page's connection; across a reload, the job
// list trimmed to its latest finished jobs and the label field counting bytes; and a job start
// whose answer was lost (the connection dropped, or the page reloaded) sent again with its key,
// which gets the job that key started, not a second one. The dashboard's steps
// run twice: over HTTP and ws://, then over HTTPS and wss:// against a server started with
// --tls-cert, whose certificate a CA made here signed (Chromium is told to trust that CA's key).
// Any console error, uncaught page error, failed request or HTTP error answer on any page fails
// the step it happens in (and the run), unless the step says it expects it.
import { execFileSync } from 'node:child_process';
import { createHash, randomUUID, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startServer as startCoropush } from './coropush-server.mjs';

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
  console.error('FAIL: the browser test did not finish within 150 s');
  process.exit(1);
}, 150_000);

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

// Starts coropush (tests/browser/coropush-server.mjs) and resolves once it listens; `ca` is what
// Node trusts for its own requests (/metrics) to a server run with --tls-cert.
const startServer = (args, ca) => startCoropush(coropushPath, args, { ca });

// A throwaway CA and a certificate it signed for localhost and 127.0.0.1, made with the openssl
// command. The chain file carries the CA too, so that Chromium, told to trust the CA's key
// (--ignore-certificate-errors-spki-list), finds it in what the server presents.
function makeCertificates() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coropush-e2e-tls-'));
  const file = (name) => path.join(dir, name);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
  openssl('req', '-x509', ...ecKey, '-keyout', file('ca.key'), '-out', file('ca.pem'), '-days', '2',
    '-subj', '/CN=coropush e2e CA', '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign');
  openssl('req', ...ecKey, '-keyout', file('key.pem'), '-out', file('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(file('server.ext'), 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\n' +
    'extendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca.key'),
    '-CAcreateserial', '-days', '2', '-extfile', file('server.ext'), '-out', file('server.pem'));
  chmodSync(file('key.pem'), 0o600);  // the server refuses a key other users may read
  const ca = readFileSync(file('ca.pem'));
  writeFileSync(file('chain.pem'), Buffer.concat([readFileSync(file('server.pem')), ca]));
  const caKeyHash = createHash('sha256')
    .update(new X509Certificate(ca).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  return { dir, ca, cert: file('chain.pem'), key: file('key.pem'), caKeyHash };
}

// A POST from Node (not from a page), over HTTP or HTTPS; resolves with the status.
function post(url, headers, ca) {
  const client = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(url, { method: 'POST', headers, ca }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
    });
    request.on('error', reject);
    request.end();
  });
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

// Everything that went wrong on a page, as a line each. Chromium reports a failed subresource
// (the favicon it asks for by itself included) as a console error, so console errors cover what
// the page's own request events cannot see.
const problems = [];
// Console errors a step expects (a refused handshake it provokes on purpose): patterns, each
// consumed by the first error it matches.
let expectedErrors = [];

function watchForProblems(context) {
  context.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    const expected = expectedErrors.findIndex((pattern) => pattern.test(text));
    if (expected !== -1) {
      expectedErrors.splice(expected, 1);
      return;
    }
    problems.push(`console error on ${message.page()?.url()}: ${text}`);
  });
  context.on('weberror', (error) => problems.push(`page error: ${error.error().message}`));
  context.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  context.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
  });
}

async function step(name, page, body) {
  const started = Date.now();
  const problemsBefore = problems.length;
  let passed = false;
  try {
    await body();
    const fresh = problems.slice(problemsBefore);
    check(fresh.length === 0, fresh.join('; '));
    check(expectedErrors.length === 0, `expected console errors that did not come: ${expectedErrors.join(', ')}`);
    passed = true;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failures.push(name);
    console.log(`FAIL ${name}: ${error.message}`);
  } finally {
    expectedErrors = [];
    if (page) {
      shot += 1;
      const file = path.join(artifacts, `${String(shot).padStart(2, '0')}-${name.replace(/\W+/g, '-')}.png`);
      // The whole page for a failed step; the window alone for a passed one (a full-page shot of a
      // long list takes seconds).
      await page.screenshot({ path: file, fullPage: !passed }).catch(() => {});
    }
  }
}

async function openDashboard(context, base) {
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.waitForSelector('#status[data-state="open"]', { timeout: WAIT });
  return page;
}

// The dashboard's steps against one server (run with --deflate), `base` being
// http://127.0.0.1:PORT or https://...; `label` prefixes the step names, `ca` is what Node trusts
// for its own requests over HTTPS.
async function dashboardSteps(context, server, base, label, ca) {
  // 1. The demo: the welcome, then the notice a second later, in that order (keyboard only).
  const pageA = await openDashboard(context, base);
  await step(`${label}demo messages appear in order`, pageA, async () => {
    await pageA.focus('#run');
    await pageA.keyboard.press('Enter');
    await pageA.waitForFunction(() => document.querySelectorAll('#demo-log li').length >= 2, null, { timeout: WAIT });
    const lines = await pageA.$$eval('#demo-log li', (items) => items.map((li) => li.textContent));
    check(JSON.stringify(lines) === JSON.stringify([WELCOME, NOTICE]), `got ${JSON.stringify(lines)}`);
  });

  // 1b. Chromium always offers permessage-deflate: under --deflate the server accepts it, over ws://
  //     and over wss:// alike, and a large JSON echo crosses it both ways (the server's metric
  //     counts the sessions).
  await step(`${label}Chromium negotiates permessage-deflate with --deflate`, pageA, async () => {
    const result = await pageA.evaluate((text) => new Promise((resolve, reject) => {
      const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
      const socket = new WebSocket(`${scheme}://${location.host}/ws`, 'coropush.v1');
      socket.onerror = () => reject(new Error('the WebSocket failed'));
      socket.onopen = () => socket.send(JSON.stringify({ type: 'echo', id: 1, data: { text } }));
      socket.onmessage = (event) => {
        socket.close();
        resolve({ extensions: socket.extensions, same: JSON.parse(event.data).data.text === text });
      };
    }), 'compressible '.repeat(3000));
    check(result.extensions === 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; '
      + 'server_max_window_bits=10; client_max_window_bits=10', `negotiated ${JSON.stringify(result.extensions)}`);
    check(result.same, 'the 39 KB echo came back different');
    const counted = await server.metric('coropush_websocket_sessions_deflate_total');
    check(counted >= 2, `coropush_websocket_sessions_deflate_total is ${counted}: the dashboard and this socket`);
  });

  // 2. Topics: a message published on one page reaches a second page subscribed to the topic.
  const pageB = await openDashboard(context, base);
  await step(`${label}the topic field validates names as the server does`, pageB, async () => {
    const validity = (value) => pageB.$eval('#topic', (input, v) => {
      input.value = v;
      return { valid: input.validity.valid, mismatch: input.validity.patternMismatch };
    }, value);
    const bad = await validity('no spaces!');
    check(bad.mismatch, `the pattern let "no spaces!" through: ${JSON.stringify(bad)}`);
    const good = await validity('a.b_c:d/e-f');
    check(good.valid, `the pattern refused "a.b_c:d/e-f": ${JSON.stringify(good)}`);
  });
  await step(`${label}a published message reaches the other page`, pageB, async () => {
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

  // 3. A job's bar reaches 100%.
  await step(`${label}a job bar reaches 100 percent`, pageA, async () => {
    await pageA.selectOption('#job-kind', 'sample');
    await pageA.fill('#job-steps', '5');
    await pageA.fill('#job-step-ms', '50');
    await pageA.fill('#job-label', 'quick');
    await pageA.click('#job-form button[type=submit]');
    await pageA.waitForSelector('.job[data-state="done"]', { timeout: WAIT });
    const value = await pageA.$eval('.job[data-state="done"] progress', (bar) => bar.value);
    check(value === 100, `the bar stopped at ${value}`);
  });

  // 4. The server drops the page's connection mid-job: the page reconnects, resumes the job, and
  //    the bar goes on from where it was (it never moves back) to 100%.
  await step(`${label}a job survives a dropped connection`, pageA, async () => {
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
    const status = await post(`${base}/admin/disconnect?how=drop`, { Authorization: `Bearer ${ADMIN_TOKEN}` }, ca);
    check(status === 200, `the admin endpoint answered ${status}`);
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

  // 5. Across a reload the job list keeps its latest 20 finished jobs (the tab's storage too), in
  //    the order they finished: a job started first but ending last (here: one the server no
  //    longer knows, which the page's resume finds "gone") stays. And the label field counts bytes
  //    of UTF-8, as the server does (maxlength counts characters).
  await step(`${label}the job list keeps the latest finished jobs; the label counts bytes`, pageA, async () => {
    await pageA.evaluate(() => sessionStorage.setItem('coropush.jobs', JSON.stringify([
      { id: 'old-run', label: 'old run', kind: 'sample', steps: 9, lastSeq: 1, percent: 10, message: 'x', state: 'running' },
      ...Array.from({ length: 25 }, (_, i) => (
        { id: `old-${i}`, label: `old ${i}`, kind: 'sample', steps: 1, lastSeq: 2, percent: 100, message: 'ok', state: 'done' })),
    ])));
    await pageA.reload();
    await pageA.waitForSelector('.job[data-job-id="old-run"][data-state="gone"]', { timeout: WAIT });
    const kept = ['old-run', ...Array.from({ length: 19 }, (_, i) => `old-${i + 6}`)];
    const shown = await pageA.$$eval('.job', (items) => items.map((item) => item.dataset.jobId));
    check(JSON.stringify(shown) === JSON.stringify(kept), `the list shows ${JSON.stringify(shown)}`);
    const stored = await pageA.evaluate(() => JSON.parse(sessionStorage.getItem('coropush.jobs')).map((job) => job.id));
    const finishOrder = [...kept.slice(1), 'old-run'];
    check(JSON.stringify(stored) === JSON.stringify(finishOrder), `the tab stores ${JSON.stringify(stored)}`);
    const valid = (text) => pageA.$eval('#job-label', (input, value) => {
      input.value = value;
      input.dispatchEvent(new Event('input'));
      return input.validity.valid;
    }, text);
    check(!(await valid('\u00e9'.repeat(101))), 'a label of 101 characters and 202 bytes was accepted');
    check(await valid('\u00e9'.repeat(100)), 'a label of 200 bytes was refused');
  });

  // The rows of the page's job list whose label is `name`: [{id, state, percent}].
  const jobsNamed = (page, name) => page.$$eval('.job', (items, name) => items
    .filter((item) => item.querySelector('.job-title').textContent.startsWith(`${name} (`))
    .map((item) => ({ id: item.dataset.jobId, state: item.dataset.state, percent: item.querySelector('progress').value })), name);
  const storedStarts = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem('coropush.jobs.starts') || '[]'));

  // 6. The connection drops after the server has read a job_start but before the page reads the
  //    answer: the page closes its socket right after sending it (the server reads the start
  //    before the close; a message that comes while the socket is closing is not delivered). The
  //    start is sent again on the next connection with its key: one job, which runs to done.
  await step(`${label}a start whose answer the connection lost is sent again: one job`, pageA, async () => {
    const startedBefore = await server.metric('coropush_jobs_started_total');
    await pageA.evaluate(() => {
      const send = WebSocket.prototype.send;
      WebSocket.prototype.send = function (text) {
        send.call(this, text);
        if (JSON.parse(text).type === 'job_start') {
          WebSocket.prototype.send = send;
          this.close();
        }
      };
      const status = document.getElementById('jobs-status');
      window.e2eNotes = [];
      new MutationObserver((records) => {
        for (const record of records) for (const node of record.addedNodes) window.e2eNotes.push(node.textContent);
      }).observe(status, { childList: true });
    });
    await pageA.fill('#job-steps', '3');
    await pageA.fill('#job-step-ms', '100');
    await pageA.fill('#job-label', 'answer lost');
    await pageA.click('#job-form button[type=submit]');
    await pageA.waitForFunction(
      () => [...document.querySelectorAll('.job')].some((j) => j.textContent.startsWith('answer lost (') && j.dataset.state === 'done'),
      null, { timeout: WAIT });
    const rows = await jobsNamed(pageA, 'answer lost');
    check(rows.length === 1 && rows[0].percent === 100, `the list shows ${JSON.stringify(rows)}`);
    const notes = await pageA.evaluate(() => window.e2eNotes);
    check(notes.some((n) => n.includes('will be sent again')) && notes.at(-1) === 'Started answer lost.',
      `the status line said ${JSON.stringify(notes)}`);
    check((await storedStarts(pageA)).length === 0, `unanswered starts stored: ${JSON.stringify(await storedStarts(pageA))}`);
    const started = await server.metric('coropush_jobs_started_total');
    check(started === startedBefore + 1, `the server started ${started - startedBefore} jobs`);
  });

  // 7. A start left unanswered in the tab's storage across a reload: its key names a job another
  //    connection started (and which has ended: all its events come in the replay right after
  //    the answer), so the page shows that job, with its id, done, and the server starts nothing.
  //    A start whose key the server does not know starts a new job; one it refuses (a key too
  //    short) is dropped, and the status line says why.
  await step(`${label}a start unanswered before a reload gets the job its key started, a new one, or a refusal`, pageA, async () => {
    const key = randomUUID();
    const request = { kind: 'sample', steps: 3, step_ms: 100, label: 'keyed' };
    // Another connection starts the job with that key and watches it to the end.
    const first = await pageA.evaluate(({ request, key }) => new Promise((resolve, reject) => {
      const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
      const socket = new WebSocket(`${scheme}://${location.host}/ws`, 'coropush.v1');
      const types = [];
      let job;
      socket.onerror = () => reject(new Error('the WebSocket failed'));
      socket.onclose = () => reject(new Error(`closed before job_done: ${types.join(' ')}`));
      socket.onopen = () => socket.send(JSON.stringify({ type: 'job_start', id: 1, data: { ...request, key } }));
      socket.onmessage = (event) => {
        const envelope = JSON.parse(event.data);
        types.push(envelope.type);
        if (envelope.type === 'job_started') job = envelope.data.job;
        if (envelope.type === 'job_done' || envelope.type === 'error') {
          socket.onclose = null;
          socket.close();
          resolve({ job, types });
        }
      };
    }), { request, key });
    check(first.job && first.types.at(-1) === 'job_done', `the other connection got ${first.types.join(' ')}`);
    const startedBefore = await server.metric('coropush_jobs_started_total');

    await pageA.evaluate((starts) => sessionStorage.setItem('coropush.jobs.starts', JSON.stringify(starts)), [
      { ...request, key },
      { kind: 'sample', steps: 2, step_ms: 100, label: 'new key', key: randomUUID() },
      { kind: 'sample', steps: 2, step_ms: 100, label: 'bad key', key: 'too-short' },
    ]);
    await pageA.reload();
    await pageA.waitForSelector(`.job[data-job-id="${first.job}"][data-state="done"]`, { timeout: WAIT });
    await pageA.waitForFunction(
      () => [...document.querySelectorAll('.job')].some((j) => j.textContent.startsWith('new key (') && j.dataset.state === 'done'),
      null, { timeout: WAIT });
    // The answers come in order, the refusal last.
    await pageA.waitForFunction(
      () => document.getElementById('jobs-status').textContent.startsWith('Could not start bad key: bad_data:'),
      null, { timeout: WAIT });
    const keyed = await jobsNamed(pageA, 'keyed');
    check(keyed.length === 1 && keyed[0].id === first.job && keyed[0].percent === 100,
      `the list shows ${JSON.stringify(keyed)} for the job ${first.job}`);
    const fresh = await jobsNamed(pageA, 'new key');
    check(fresh.length === 1 && fresh[0].id !== first.job, `the list shows ${JSON.stringify(fresh)} for the new key`);
    check((await jobsNamed(pageA, 'bad key')).length === 0, 'the refused start is in the list');
    check((await storedStarts(pageA)).length === 0, `unanswered starts stored: ${JSON.stringify(await storedStarts(pageA))}`);
    const started = await server.metric('coropush_jobs_started_total');
    check(started === startedBefore + 1, `the server started ${started - startedBefore} jobs (the new key's alone expected)`);
  });
  await pageA.close();
  await pageB.close();
}

let certificates;
try {
  const dashboardArgs = [
    '--port', '0', '--web-root', webRoot, '--admin-token', ADMIN_TOKEN, '--push-delay', '1s', '--deflate',
  ];
  const server = await startServer(dashboardArgs);
  servers.push(server);
  certificates = makeCertificates();
  const tlsServer = await startServer(
    [...dashboardArgs, '--tls-cert', certificates.cert, '--tls-key', certificates.key], certificates.ca);
  servers.push(tlsServer);
  browser = await chromium.launch({
    executablePath: findBrowser(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
           '--disable-component-update', '--disable-sync',
           `--ignore-certificate-errors-spki-list=${certificates.caKeyHash}`],
  });
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  watchForProblems(context);

  await dashboardSteps(context, server, `http://127.0.0.1:${server.port}`, '', undefined);

  // Then the seed's page, unmodified: a plain WebSocket to ws://localhost:1337, no subprotocol. The
  //    server is started as scripts/run.sh starts it, with no flag (port 1337, web/ as its root).
  //    Over HTTP the page's Origin is the server's own; from disk it is `null`.
  check(await portIsFree(1337), 'port 1337 is in use: stop what runs there (the seed page hard-codes it)');
  const seedServer = await startServer([]);
  servers.push(seedServer);
  const runSeedPage = async (page, url) => {
    await page.goto(url);
    await page.click('text=Run WebSocket');
    await page.waitForFunction(
      (notice) => document.getElementById('content').innerText.includes(notice), NOTICE, { timeout: WAIT });
    const text = await page.$eval('#content', (content) => content.innerText);
    check(text.includes(`${WELCOME}\n${NOTICE}`), `the seed page shows ${JSON.stringify(text)}`);
  };

  const seedOverHttp = await context.newPage();
  await step('the seed page works over HTTP from a server run with no flag', seedOverHttp, async () => {
    await runSeedPage(seedOverHttp, 'http://localhost:1337/original.html');
    // Chromium asks for /favicon.ico by itself, outside the page's request events; a 404 would
    // show up as a console error at some point. Ask directly, so the check does not race it.
    const icon = await fetch('http://127.0.0.1:1337/favicon.ico');
    check(icon.ok && icon.headers.get('content-type').startsWith('image/'),
      `/favicon.ico answered ${icon.status} ${icon.headers.get('content-type')}`);
  });

  const seedFromDisk = await context.newPage();
  await step('the seed page works opened from disk', seedFromDisk, async () => {
    await runSeedPage(seedFromDisk, pathToFileURL(path.join(webRoot, 'original.html')).href);
    check(!seedServer.log().includes('upgrade refused'), `the server refused an upgrade:\n${seedServer.log()}`);
  });

  // And a page from disk (Origin: null) gets no JSON session by default: topics, jobs and publish
  //    keep the strict Origin policy, and the refusal's log line says what would allow it.
  await step('a page from disk is refused the JSON dialect', seedFromDisk, async () => {
    expectedErrors = [/WebSocket connection to 'ws:\/\/localhost:1337\/ws' failed.*403/];
    const opened = await seedFromDisk.evaluate(() => new Promise((resolve) => {
      const socket = new WebSocket('ws://localhost:1337/ws', 'coropush.v1');
      socket.onopen = () => { socket.close(); resolve(true); };
      socket.onclose = () => resolve(false);
    }));
    check(!opened, 'the JSON dialect accepted Origin: null');
    check(/upgrade refused: 403 origin not allowed for coropush\.v1: "null" .*--allow-origin null would allow it/.test(seedServer.log()),
      `no refusal naming the origin and the option in the log:\n${seedServer.log()}`);
  });
  await seedOverHttp.close();
  await seedFromDisk.close();
  await seedServer.stop();


  await dashboardSteps(context, tlsServer, `https://127.0.0.1:${tlsServer.port}`, '(https) ', certificates.ca);
  await step('no console error or failed request anywhere', null, async () => {
    check(problems.length === 0, problems.join('; '));
  });
} catch (error) {
  failures.push('setup');
  console.log(`FAIL setup: ${error.stack || error.message}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  for (const server of servers) await server.stop().catch(() => {});
  if (certificates) rmSync(certificates.dir, { recursive: true, force: true });
  clearTimeout(overall);
}

if (failures.length > 0) {
  console.log(`${failures.length} step(s) failed: ${failures.join(', ')} (screenshots in ${artifacts})`);
  process.exit(1);
}
console.log(`all steps passed (screenshots in ${artifacts})`);
