// The report example, end to end: examples/report-backend/run.sh starts the real coropush and the
// real example backend, and headless Chromium (playwright-core) drives the example's page. Every
// wait is for a condition on the page or a line in the servers' logs, with a deadline.
//
//   node report_example.mjs <run.sh> <coropush executable> <artifacts dir>
//
// Steps: the page connects; a report shows its progress live; a reload in the middle, and then a
// dropped connection, resume it with no gap and no event twice; Cancel ends it as cancelled and
// the backend stops building it; a second report runs to completion; Ctrl-C stops run.sh and both
// servers. Any console error, uncaught page error, failed request or HTTP error answer fails the
// step it happens in, and the first failed step ends the run.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [runScript, coropushPath, artifacts] = process.argv.slice(2);
const WAIT = 15_000;
// Short steps keep the run short; enough of them that the reload, the drop and the cancel all
// land mid-report.
const STEP_TIME = '0.2';
const STEPS = 40;
const API_KEY = randomBytes(32).toString('hex');
// coropush reads it from the environment: POST /admin/disconnect?how=drop drops the page's connection.
const ADMIN_TOKEN = randomBytes(32).toString('hex');

if (!runScript || !coropushPath || !artifacts) {
  console.error('usage: node report_example.mjs <run.sh> <coropush> <artifacts dir>');
  process.exit(2);
}
if (!existsSync(path.join(here, 'node_modules', 'playwright-core'))) {
  console.error('playwright-core is not installed: run scripts/install-deps.sh test (or npm ci in tests/browser)');
  process.exit(1);
}
const { chromium } = await import('playwright-core');

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

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// 1, 2, ..., n with nothing missing and nothing twice.
function isRun(seqs, first = 1) {
  return seqs.every((seq, i) => seq === first + i);
}

// --- run.sh, as a person runs it ------------------------------------------------------------------

// Starts run.sh in a process group of its own, as a shell does, so that "Ctrl-C" is a SIGINT to
// that group. It prints the URL to open on stdout; the servers' logs come on stderr.
function startExample() {
  const args = ['--port', '0', '--step-time', STEP_TIME, '--steps', String(STEPS), '--log-level', 'debug'];
  const child = spawn(runScript, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, COROPUSH_BIN: coropushPath, COROPUSH_API_KEY: API_KEY, COROPUSH_ADMIN_TOKEN: ADMIN_TOKEN,
      COROPUSH_PORT: '0' },
  });
  let stdout = '';
  let log = '';
  const logWaiters = new Set();
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => {
    log += chunk;
    for (const waiter of logWaiters) waiter();
  });
  const exited = once(child, 'exit');
  // However this process ends (a crash included), run.sh is told to stop its servers.
  process.on('exit', () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGTERM');
  });
  const url = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`run.sh printed no URL in time:\n${log}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = stdout.match(/^open (http:\/\/\S+)$/m);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    exited.then(([code]) => reject(new Error(`run.sh exited with ${code}:\n${log}`)));
  });
  return {
    url,
    log: () => log,
    stdout: () => stdout,
    running: () => child.exitCode === null && child.signalCode === null,
    // Resolves with the first match of `regex` in the logs, when it comes.
    waitForLog(regex, timeout = WAIT) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          logWaiters.delete(look);
          reject(new Error(`no ${regex} in the logs within ${timeout} ms:\n${log}`));
        }, timeout);
        function look() {
          const match = log.match(regex);
          if (!match) return;
          clearTimeout(timer);
          logWaiters.delete(look);
          resolve(match);
        }
        logWaiters.add(look);
        look();
      });
    },
    // Ctrl-C in the terminal: SIGINT to the foreground process group. Resolves with the exit code.
    async interrupt(timeout = WAIT) {
      if (this.running()) process.kill(-child.pid, 'SIGINT');
      const timer = setTimeout(() => child.kill('SIGTERM'), timeout);
      const [code, signal] = await exited;
      clearTimeout(timer);
      return signal ?? code;
    },
  };
}

// --- Everything that goes wrong on the page, as a line each ---------------------------------------

const problems = [];
function watchForProblems(context) {
  context.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console error on ${message.page()?.url()}: ${message.text()}`);
  });
  context.on('weberror', (error) => problems.push(`page error: ${error.error().message}`));
  context.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  context.on('response', (response) => {
    if (response.status() >= 400) problems.push(`HTTP ${response.status()} for ${response.url()}`);
  });
}

// Every WebSocket frame the page sends and receives, by connection (1, 2, ... in opening order).
const frames = [];
const frameWaiters = new Set();
let connections = 0;
function recordFrames(page) {
  page.on('websocket', (socket) => {
    connections += 1;
    const connection = connections;
    const record = (direction) => (frame) => {
      frames.push({ connection, direction, envelope: JSON.parse(frame.payload) });
      for (const waiter of frameWaiters) waiter();
    };
    socket.on('framesent', record('out'));
    socket.on('framereceived', record('in'));
  });
}
// Resolves with the first frame that satisfies `predicate`, when it comes.
function waitForFrame(predicate, timeout = WAIT) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      frameWaiters.delete(look);
      reject(new Error(`no such frame within ${timeout} ms`));
    }, timeout);
    function look() {
      const found = frames.find(predicate);
      if (!found) return;
      clearTimeout(timer);
      frameWaiters.delete(look);
      resolve(found);
    }
    frameWaiters.add(look);
    look();
  });
}
const jobEvents = (job, connection) => frames.filter((f) => f.direction === 'in' && f.connection === connection &&
  ['job_progress', 'job_done', 'job_failed'].includes(f.envelope.type) && f.envelope.data.job === job);

// Each step needs the ones before it, so the first failure ends the run.
class StepFailed extends Error {}
let shot = 0;
async function step(name, page, body) {
  const started = Date.now();
  const problemsBefore = problems.length;
  let passed = false;
  try {
    await body();
    const fresh = problems.slice(problemsBefore);
    check(fresh.length === 0, fresh.join('; '));
    passed = true;
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    const fresh = problems.slice(problemsBefore);
    console.log(`FAIL ${name}: ${error.message}${fresh.length ? `\n     on the page: ${fresh.join('; ')}` : ''}`);
    throw new StepFailed(name);
  } finally {
    if (page) {
      shot += 1;
      const file = path.join(artifacts, `${String(shot).padStart(2, '0')}-${name.replace(/\W+/g, '-')}.png`);
      // The whole page for a failed step; the window alone for a passed one (a full-page shot of a
      // long list takes seconds).
      await page.screenshot({ path: file, fullPage: !passed }).catch(() => {});
    }
  }
}

// After the page opened connection number `connection`: it resumed the job after the last event
// it had shown (at least `shownBefore`); coropush sent what came after, then live events, with
// consecutive seqs; and the page's log, kept across reloads, has every event once, in order.
async function checkResumed(page, job, connection, shownBefore) {
  const resume = await waitForFrame((f) => f.connection === connection && f.envelope.type === 'job_resume');
  check(resume.envelope.data.job === job, `resumed job ${resume.envelope.data.job}, not ${job}`);
  const afterSeq = resume.envelope.data.after_seq;
  check(afterSeq >= shownBefore, `resumed after ${afterSeq}, but the page had shown ${shownBefore}`);
  const resumed = (await waitForFrame((f) => f.connection === connection && f.envelope.type === 'job_resumed')).envelope.data;
  check(resumed.replayed === true, `job_resumed ${JSON.stringify(resumed)}: not replayed`);
  // At least one live event after the replay.
  await waitForSeq(page, Math.max(resumed.last_seq, afterSeq) + 1);
  const shown = await reportState(page);
  check(shown.job === job, `the page shows job ${shown.job}, not ${job}`);
  check(shown.state === 'running', `the report is ${shown.state} already: steps too short for this test`);
  check(connections === connection, `${connections - connection + 1} new connections`);
  const received = jobEvents(job, connection).map((f) => f.envelope.data.seq);
  check(isRun(received, afterSeq + 1), `after_seq ${afterSeq}, then received ${JSON.stringify(received)}`);
  const seqs = shown.log.map((l) => l.seq);
  check(isRun(seqs), `the log's seqs: ${JSON.stringify(seqs)}`);
  return { afterSeq, replayed: resumed.last_seq - afterSeq, received };
}

// What the page shows of its report.
const reportState = (page) => page.$eval('#report', (report) => ({
  job: report.dataset.job,
  state: report.dataset.state,
  seq: Number(report.dataset.seq),
  bar: report.querySelector('progress').value,
  text: document.getElementById('state').textContent,
  log: [...report.querySelectorAll('#log li')].map((li) => ({ seq: Number(li.dataset.seq), text: li.textContent })),
}));
const waitForSeq = (page, atLeast) => page.waitForFunction(
  (n) => Number(document.getElementById('report').dataset.seq) >= n, atLeast, { timeout: WAIT });

// --- The run ----------------------------------------------------------------------------------------

mkdirSync(artifacts, { recursive: true });
const example = startExample();
let failed = null; // the step that failed
// The whole run is bounded, whatever happens; run.sh is asked to stop its servers on the way out.
const overall = setTimeout(() => {
  console.error(`FAIL: the report example test did not finish within 100 s; the servers' logs:\n${example.log()}`);
  example.interrupt().finally(() => process.exit(1));
}, 100_000);

let browser;
try {
  const url = await example.url;
  const coropushPort = Number((await example.waitForLog(/\[coropush\].*listening on \S+:(\d+)/))[1]);
  const api = (route) => fetch(`http://127.0.0.1:${coropushPort}/api/jobs/${route}`, {
    headers: { Authorization: `Bearer ${API_KEY}` },
  });

  browser = await chromium.launch({
    executablePath: findBrowser(),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ viewport: { width: 1000, height: 900 } });
  watchForProblems(context);
  context.setDefaultTimeout(WAIT);
  const page = await context.newPage();
  recordFrames(page);

  await step('the page, served by the backend, connects to coropush', page, async () => {
    await page.goto(url);
    await page.waitForSelector('#connection[data-state="open"]', { timeout: WAIT });
    const config = await page.evaluate(async () => (await fetch('/config.json')).json());
    check(config.websocket === `ws://127.0.0.1:${coropushPort}/ws`, `the page connects to ${config.websocket}`);
    check(new URL(url).port !== String(coropushPort), 'the page and coropush share a port: not the story told');
  });

  let first;
  await step('a report shows its progress live', page, async () => {
    await page.click('#start');
    await page.waitForSelector('#report[data-state="running"]', { timeout: WAIT });
    await waitForSeq(page, 3);
    first = await reportState(page);
    check(/^[0-9a-f]{32}$/.test(first.job), `job id ${first.job}`);
    check(isRun(first.log.map((l) => l.seq)), `the log's seqs: ${first.log.map((l) => l.seq)}`);
    check(first.log.at(-1).text.startsWith(`${first.bar}%`), `the bar (${first.bar}) is not the last event's`);
    check(await page.isDisabled('#start'), 'Start is enabled while a report runs');
    await example.waitForLog(new RegExp(`\\[backend\\].*report ${first.job}: started`));
  });

  await step('a reload mid-report resumes with no gap and nothing twice', page, async () => {
    const before = await reportState(page);
    const connection = connections + 1;
    // Hold the reloaded page back (its request for /config.json comes after the old page is
    // gone) until the backend has reported two more steps: events the page has to get replayed.
    await page.route('**/config.json', async (route) => {
      try {
        const { seq } = await (await api(first.job)).json();
        await example.waitForLog(new RegExp(`report ${first.job}: step \\d+ of \\d+ reported \\(seq ${seq + 2}\\)`));
      } finally {
        await route.continue(); // what went wrong shows in the checks below
      }
    }, { times: 1 });
    await page.reload();
    const { afterSeq, replayed, received } = await checkResumed(page, first.job, connection, before.seq);
    check(replayed >= 2, `${replayed} events replayed, not the two the page missed`);
    console.log(`     the old page saw up to seq ${afterSeq}; the new one got ${received.join(' ')} (${replayed} replayed)`);
  });

  await step('a dropped connection comes back and resumes with no gap and nothing twice', page, async () => {
    const before = await reportState(page);
    const connection = connections + 1;
    // coropush drops every WebSocket's TCP connection, without a close frame: the page sees 1006.
    const answer = await fetch(`http://127.0.0.1:${coropushPort}/admin/disconnect?how=drop`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    check(answer.ok, `/admin/disconnect answered ${answer.status}`);
    const { afterSeq, received } = await checkResumed(page, first.job, connection, before.seq);
    console.log(`     dropped after seq ${afterSeq}; the new connection got ${received.join(' ')}`);
  });

  await step('Cancel ends the report as cancelled, and the backend stops building it', page, async () => {
    await page.click('#cancel');
    await page.waitForSelector('#report[data-state="cancelled"]', { timeout: WAIT });
    const stopped = await example.waitForLog(
      new RegExp(`\\[backend\\].*report ${first.job}: cancelled at step (\\d+) of ${STEPS}; stopped`));
    check(Number(stopped[1]) < STEPS, `the backend built all ${STEPS} steps anyway`);
    const shown = await reportState(page);
    check(isRun(shown.log.map((l) => l.seq)), `the log's seqs: ${shown.log.map((l) => l.seq)}`);
    check(shown.text === 'Cancelled.' && shown.log.at(-1).text === 'failed: cancelled',
      `the page says ${JSON.stringify(shown.text)}, its log ends with ${JSON.stringify(shown.log.at(-1).text)}`);
    check(await page.isEnabled('#start') && await page.isDisabled('#cancel'), 'the buttons did not follow');
    const connection = connections;
    const cancel = frames.find((f) => f.connection === connection && f.envelope.type === 'job_cancel');
    check(cancel && frames.some((f) => f.envelope.type === 'job_cancelling' && f.envelope.id === cancel.envelope.id),
      'no job_cancel answered with job_cancelling');
    // coropush's record of the job: ended, by the cancel, at the event the page shows last.
    const answer = await api(first.job);
    check(answer.ok, `GET /api/jobs/${first.job} answered ${answer.status}`);
    const record = await answer.json();
    check(record.state === 'failed' && record.cancel_requested === true && record.seq === shown.seq,
      `coropush has ${JSON.stringify(record)}, the page seq ${shown.seq}`);
  });

  await step('a second report runs to completion', page, async () => {
    await page.click('#start');
    await page.waitForFunction(
      (old) => { const r = document.getElementById('report'); return r.dataset.job !== old && r.dataset.state === 'done'; },
      first.job, { timeout: WAIT + STEPS * Number(STEP_TIME) * 1000 });
    const second = await reportState(page);
    const seqs = second.log.map((l) => l.seq);
    check(isRun(seqs) && seqs.length === STEPS + 1, `the log's seqs: ${JSON.stringify(seqs)}`);
    const percents = second.log.slice(0, -1).map((l) => Number.parseInt(l.text, 10));
    check(percents.every((p, i) => i === 0 || p >= percents[i - 1]) && percents.at(-1) === 100 && second.bar === 100,
      `percents ${JSON.stringify(percents)}, bar ${second.bar}`);
    check(second.log.at(-1).text.startsWith('done: ') && second.text.startsWith('Done: '),
      `the page says ${JSON.stringify(second.text)}, its log ends with ${JSON.stringify(second.log.at(-1).text)}`);
    await example.waitForLog(new RegExp(`\\[backend\\].*report ${second.job}: done`));
  });

  await step('no console error or failed request anywhere', null, async () => {
    check(problems.length === 0, problems.join('; '));
  });
  // The page goes before the servers do: a page that lost its server would log its retries.
  await browser.close();
  browser = undefined;

  await step('Ctrl-C stops run.sh, the backend and coropush', null, async () => {
    const status = await example.interrupt();
    check(status === 0, `run.sh ended with ${status}:\n${example.log()}`);
    check(/\[backend\].* INFO stopped$/m.test(example.log()), 'the backend did not say it stopped');
    check(/\[coropush\].*signal 15: shutting down gracefully/.test(example.log()), 'coropush was not stopped gracefully');
    for (const port of [new URL(url).port, coropushPort]) {
      const refused = await fetch(`http://127.0.0.1:${port}/`).then(() => false, () => true);
      check(refused, `port ${port} still answers`);
    }
  });
} catch (error) {
  failed = error instanceof StepFailed ? error.message : 'setup';
  if (!(error instanceof StepFailed)) console.log(`FAIL setup: ${error.stack || error.message}`);
} finally {
  if (browser) await browser.close().catch(() => {});
  if (example.running()) await example.interrupt().catch(() => {});
  clearTimeout(overall);
}

if (failed) {
  console.log(`failed at: ${failed} (screenshots in ${artifacts})`);
  console.log(`the servers' logs:\n${example.log()}`);
  process.exit(1);
}
console.log(`all steps passed (screenshots in ${artifacts})`);
