// The report page: asks the backend to build a report, then watches it on coropush's WebSocket.
//
// The backend answers POST /reports with a job id; the page sends coropush `job_resume` with that
// id and gets the job's events: `job_progress` as the backend reports each step, then `job_done`
// or `job_failed`. What the page knows (the job id, the last event's seq) is kept in
// sessionStorage, so after a reload or a lost connection it resumes with `after_seq`: coropush
// sends the events the page missed, then the live ones, none twice and none lost.

const PROTOCOL = 'coropush.v1';
const STORE = 'report-example';
// Close codes that mean this page did something wrong (docs/protocol.md): trying again would
// only do it again.
const CLIENT_FAULT_CODES = new Set([1002, 1003, 1007, 1008, 1009]);
const FINAL = new Set(['done', 'failed', 'cancelled', 'gone']);
const LOG_LINES = 100;

const byId = (id) => document.getElementById(id);
const ui = {
  start: byId('start'),
  cancel: byId('cancel'),
  report: byId('report'),
  bar: byId('bar'),
  percent: byId('percent'),
  state: byId('state'),
  log: byId('log'),
  note: byId('note'),
  connection: byId('connection'),
};

// The report this tab started, or null: {job, lastSeq, percent, state, message, log: [{seq, text}]}.
let report = JSON.parse(sessionStorage.getItem(STORE) || 'null');
let socket = null;
let attempt = 0; // reconnections since the connection was last open
let nextId = 1;

const save = () => sessionStorage.setItem(STORE, JSON.stringify(report));
const isOpen = () => socket !== null && socket.readyState === WebSocket.OPEN;
const running = () => report !== null && !FINAL.has(report.state);

function send(type, data) {
  socket.send(JSON.stringify({ type, id: nextId++, data }));
}

// Events after the last one seen; coropush replays what was missed, then goes on live.
function resume() {
  send('job_resume', { job: report.job, after_seq: report.lastSeq });
}

// --- What coropush says -------------------------------------------------------------------------

function receive(envelope) {
  const { type, data } = envelope;
  switch (type) {
    case 'job_progress':
      apply(data, `${data.percent}% ${data.message}`,
        { percent: data.percent, message: data.message, state: report?.state === 'cancelling' ? 'cancelling' : 'running' });
      break;
    case 'job_done':
      apply(data, `done: ${data.result}`, { percent: 100, message: data.result, state: 'done' });
      break;
    case 'job_failed':
      apply(data, `failed: ${data.reason}`,
        { message: data.reason, state: data.reason === 'cancelled' ? 'cancelled' : 'failed' });
      break;
    case 'job_cancelling':
      // The backend hears of it with its next step, and then ends the job.
      if (running() && data.job === report.job) update({ state: 'cancelling' });
      break;
    case 'error':
      // The page sends only job_resume and job_cancel. `unknown_job`: coropush no longer has the
      // job (it restarted, or kept the finished job past its retention). `job_finished`: a cancel
      // that came after the end, whose final event is already here or on its way.
      if (data.code === 'unknown_job' && running()) update({ state: 'gone', message: 'coropush no longer knows this report' });
      else if (data.code !== 'job_finished') ui.note.textContent = `coropush: ${data.code}: ${data.message}`;
      break;
    default:
      break; // job_resumed, and anything newer than this page
  }
}

// One job event, applied once and in order: an event of an older report of this tab, or one the
// page already has, is left out. coropush sends each event once per resume, but its seq makes
// that the page's own guarantee too (a second resume sent by mistake would change nothing).
function apply(event, line, change) {
  if (report === null || event.job !== report.job || event.seq <= report.lastSeq) return;
  const log = [...report.log, { seq: event.seq, text: line }].slice(-LOG_LINES);
  update({ ...change, lastSeq: event.seq, log });
}

function update(change) {
  Object.assign(report, change);
  save();
  render();
}

// --- The page -----------------------------------------------------------------------------------

const DESCRIPTIONS = {
  running: (r) => r.message,
  cancelling: () => 'Cancelling…',
  done: (r) => `Done: ${r.message}`,
  cancelled: () => 'Cancelled.',
  failed: (r) => `Failed: ${r.message}`,
  gone: (r) => r.message,
};

function render() {
  ui.start.disabled = running(); // one report at a time
  ui.cancel.disabled = !running() || report.state === 'cancelling' || !isOpen();
  ui.report.hidden = report === null;
  if (report === null) return;
  ui.report.dataset.job = report.job;
  ui.report.dataset.state = report.state;
  ui.report.dataset.seq = String(report.lastSeq);
  ui.bar.value = report.percent;
  ui.percent.textContent = `${report.percent}%`;
  ui.state.textContent = DESCRIPTIONS[report.state](report);
  ui.log.replaceChildren(...report.log.map(({ seq, text }) => {
    const line = document.createElement('li');
    line.value = seq;
    line.dataset.seq = String(seq);
    line.textContent = text;
    return line;
  }));
  ui.log.scrollTop = ui.log.scrollHeight; // the latest line in view
}

function showConnection(state, text) {
  ui.connection.dataset.state = state;
  ui.connection.textContent = text;
  render();
}

// --- The connection -----------------------------------------------------------------------------

function connect(url) {
  showConnection('connecting', 'Connecting to coropush…');
  socket = new WebSocket(url, PROTOCOL);
  socket.addEventListener('open', () => {
    attempt = 0;
    showConnection('open', 'Connected to coropush.');
    if (running()) resume();
  });
  socket.addEventListener('message', (event) => receive(JSON.parse(event.data)));
  socket.addEventListener('close', (event) => {
    if (CLIENT_FAULT_CODES.has(event.code)) {
      showConnection('closed', `coropush closed the connection (${event.code} ${event.reason}). Reload to try again.`);
      return;
    }
    // Full jitter: a random wait up to a cap that doubles with each attempt (to 10 s), so that
    // the pages a restart dropped do not all come back at the same moment.
    const delay = Math.round(Math.random() * Math.min(10_000, 250 * 2 ** attempt));
    attempt += 1;
    showConnection('reconnecting', `Connection lost (${event.code}); trying again in ${(delay / 1000).toFixed(1)} s.`);
    setTimeout(() => connect(url), delay);
  });
}

ui.start.addEventListener('click', async () => {
  ui.start.disabled = true;
  ui.note.textContent = '';
  try {
    const answer = await fetch('/reports', { method: 'POST' });
    const body = await answer.json();
    if (!answer.ok) throw new Error(body.error);
    report = { job: body.job, lastSeq: 0, percent: 0, state: 'running', message: 'starting', log: [] };
    save();
    render();
    if (isOpen()) resume(); // otherwise the next open resumes it
  } catch (error) {
    ui.note.textContent = `Could not start a report: ${error.message}`;
    render();
  }
});

ui.cancel.addEventListener('click', () => {
  ui.cancel.disabled = true;
  send('job_cancel', { job: report.job });
});

// The backend says where coropush is: it may be on another host or port than this page.
const config = await (await fetch('/config.json')).json();
render();
connect(config.websocket);
