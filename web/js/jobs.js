// Jobs: start server-side jobs, watch their progress bars, cancel them, and pick up where they
// were after a reconnect (or a reload): every unfinished job is resumed with the last event seq
// the page saw, and the server sends what was missed, then the live stream. A start whose answer
// the connection lost is sent again with the same key, which the server answers with the job that
// start made, if it did (docs/protocol.md, job_start).

import { ProtocolError } from './connection.js';

const STORE = 'coropush.jobs';
const STARTS_STORE = 'coropush.jobs.starts'; // job_start data sent but not answered, key included
const FINAL = new Set(['done', 'failed', 'gone']);
const KEEP_FINISHED = 20; // finished jobs kept in the list (and the tab's storage); the oldest go first
const MAX_LABEL_BYTES = 200; // the server's bound (docs/protocol.md, job_start), in bytes of UTF-8

// A start's key: unguessable, since under --auth off every page is the same user. randomUUID is
// there only in a secure context (https, or http from localhost); elsewhere 16 random bytes in hex.
function newStartKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (byte) => byte.toString(16).padStart(2, '0')).join('');
}

export function setupJobs(connection, ui) {
  const jobs = new Map(); // id -> {id, label, kind, steps, lastSeq, percent, message, state}
  const rows = new Map(); // id -> {item, bar, figure, message, state, cancel}
  const starts = new Map(); // key -> the job_start data, until the server has answered it

  // Unfinished jobs are all kept (the server bounds them, --max-jobs); finished ones only the
  // latest KEEP_FINISHED, so that a tab that runs jobs all day keeps a short list.
  const prune = () => {
    const finished = [...jobs.values()].filter((job) => FINAL.has(job.state));
    for (const job of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) {
      jobs.delete(job.id);
      rows.get(job.id)?.item.remove();
      rows.delete(job.id);
    }
  };
  // A job that has just finished moves to the end of the map, so finished jobs are pruned in the
  // order they finished: a long job started first is not dropped the moment it ends.
  const settled = (job) => {
    jobs.delete(job.id);
    jobs.set(job.id, job);
  };
  const save = () => {
    prune();
    sessionStorage.setItem(STORE, JSON.stringify([...jobs.values()]));
  };
  const saveStarts = () => {
    sessionStorage.setItem(STARTS_STORE, JSON.stringify([...starts.values()]));
  };

  const draw = (job) => {
    let row = rows.get(job.id);
    if (!row) {
      const item = document.createElement('li');
      item.className = 'job';
      item.dataset.jobId = job.id;
      const title = document.createElement('span');
      title.className = 'job-title';
      title.textContent = `${job.label || job.kind} (${job.steps} steps)`;
      const bar = document.createElement('progress');
      bar.max = 100;
      bar.setAttribute('aria-label', `Progress of ${job.label || job.kind}`);
      const figure = document.createElement('span');
      figure.className = 'job-percent';
      const message = document.createElement('span');
      message.className = 'job-message';
      const state = document.createElement('span');
      state.className = 'job-state';
      const cancel = document.createElement('button');
      cancel.type = 'button';
      cancel.textContent = 'Cancel';
      cancel.setAttribute('aria-label', `Cancel ${job.label || job.kind}`);
      cancel.addEventListener('click', () => cancelJob(job.id));
      item.append(title, bar, figure, message, state, cancel);
      ui.list.append(item);
      row = { item, bar, figure, message, state, cancel };
      rows.set(job.id, row);
    }
    row.bar.value = job.percent;
    row.figure.textContent = `${job.percent}%`;
    row.message.textContent = job.message;
    row.state.textContent = job.state;
    row.item.dataset.state = job.state;
    row.cancel.disabled = FINAL.has(job.state);
  };

  const cancelling = new Set();  // jobs whose cancel was accepted: the note says when they end

  const update = (id, seq, change) => {
    const job = jobs.get(id);
    if (!job || seq <= job.lastSeq) return; // unknown, or already seen (a replay overlapping the live stream)
    Object.assign(job, change, { lastSeq: seq });
    if (FINAL.has(job.state)) settled(job);
    draw(job);
    save();
    if (FINAL.has(job.state) && cancelling.delete(id)) note(`${job.label || job.kind}: ${job.state} (${job.message}).`);
  };

  connection.addEventListener('job_progress', ({ detail }) => {
    const { job, seq, percent, message } = detail.envelope.data;
    update(job, seq, { percent, message, state: 'running' });
  });
  connection.addEventListener('job_done', ({ detail }) => {
    const { job, seq, result } = detail.envelope.data;
    update(job, seq, { percent: 100, message: result, state: 'done' });
  });
  connection.addEventListener('job_failed', ({ detail }) => {
    const { job, seq, reason } = detail.envelope.data;
    update(job, seq, { message: reason, state: 'failed' });
  });

  const note = (text) => {
    ui.status.textContent = text;
  };

  const cancelJob = async (id) => {
    try {
      await connection.request('job_cancel', { job: id });
      cancelling.add(id);
      note('Cancelling…');
    } catch (error) {
      note(`Could not cancel: ${error.message}`);
    }
  };

  // The field's maxlength counts characters, the server bytes: say so before it is sent.
  ui.label.addEventListener('input', () => {
    const bytes = new TextEncoder().encode(ui.label.value.trim()).length;
    ui.label.setCustomValidity(bytes > MAX_LABEL_BYTES ? `At most ${MAX_LABEL_BYTES} bytes of UTF-8 (this is ${bytes}).` : '');
  });

  // Sends a start, recorded first (in the tab's storage too) so that a start whose answer is lost,
  // with the connection or a reload, is sent again when the connection is back: the same key, so
  // the server does not start a second job. Its answer is the first start's, replayed events and
  // all, so it is handled as one.
  const start = async (data) => {
    starts.set(data.key, data);
    saveStarts();
    const name = data.label || data.kind;
    try {
      const reply = await connection.request('job_start', data);
      // The job's events follow the reply at once (a repeated start replays them all), and none is
      // dropped as unknown: the browser runs this continuation (a microtask) as soon as the reply's
      // listener returns, before it dispatches the next message.
      starts.delete(data.key);
      saveStarts();
      const started = reply.data;
      const job = {
        id: started.job,
        label: started.label,
        kind: started.kind,
        steps: started.steps,
        lastSeq: 0,
        percent: 0,
        message: 'started',
        state: 'running',
      };
      jobs.set(job.id, job);
      draw(job);
      save();
      note(`Started ${job.label || job.kind}.`);
    } catch (error) {
      if (error instanceof ProtocolError) {
        // Refused (bad_data, too_many_jobs, shutting_down, forbidden...): sending it again would not help.
        starts.delete(data.key);
        saveStarts();
        note(`Could not start ${name}: ${error.message}`);
      } else {
        note(`Could not start ${name} yet (${error.message}): it will be sent again when the connection is back.`);
      }
    }
  };

  ui.form.addEventListener('submit', (event) => {
    event.preventDefault();
    start({
      kind: ui.kind.value,
      steps: Number(ui.steps.value),
      step_ms: Number(ui.stepMs.value),
      label: ui.label.value.trim(),
      key: newStartKey(),
    });
  });

  const resume = async (job) => {
    try {
      await connection.request('job_resume', { job: job.id, after_seq: job.lastSeq });
    } catch (error) {
      if (error.code === 'unknown_job') {
        job.state = 'gone';
        job.message = 'no longer on the server';
        settled(job);
        draw(job);
        save();
      }
    }
  };

  // Jobs and unanswered starts from before a reload, then every (re)connection resumes what is
  // unfinished and sends the unanswered starts again.
  for (const job of JSON.parse(sessionStorage.getItem(STORE) || '[]')) jobs.set(job.id, job);
  for (const data of JSON.parse(sessionStorage.getItem(STARTS_STORE) || '[]')) starts.set(data.key, data);
  save();
  for (const job of jobs.values()) draw(job);
  connection.addEventListener('open', () => {
    for (const job of jobs.values()) if (!FINAL.has(job.state)) resume(job);
    for (const data of [...starts.values()]) start(data);
  });
}
