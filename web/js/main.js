// Wires the dashboard's panels to one connection.
import { Connection } from './connection.js';
import { setupDemo } from './demo.js';
import { setupJobs } from './jobs.js';
import { setupStatus } from './status.js';
import { setupTopics } from './topics.js';

const byId = (id) => document.getElementById(id);
const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
const connection = new Connection(`${scheme}://${location.host}/ws`);

setupStatus(connection, byId('status'));
setupDemo(connection, { button: byId('run'), log: byId('demo-log') });
setupTopics(connection, {
  subscribeForm: byId('subscribe-form'),
  topic: byId('topic'),
  list: byId('subscriptions'),
  publishForm: byId('publish-form'),
  publishTopic: byId('publish-topic'),
  text: byId('publish-text'),
  messages: byId('messages'),
  status: byId('topics-status'),
});
setupJobs(connection, {
  form: byId('job-form'),
  kind: byId('job-kind'),
  steps: byId('job-steps'),
  stepMs: byId('job-step-ms'),
  label: byId('job-label'),
  list: byId('jobs'),
  status: byId('jobs-status'),
});

// For the end-to-end test and the curious: the connection, from the console.
window.coropush = connection;
connection.start();
// Back online, or the tab shown again: reconnect now rather than at the end of the backoff.
window.addEventListener('online', () => connection.retryNow());
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible') connection.retryNow();
});
