// web/js/connection.js without a browser: a stand-in WebSocket, driven by hand. How the page ties
// an error without an id to its request, after which close codes it reconnects, and retryNow().
import assert from 'node:assert/strict';

class FakeSocket extends EventTarget {
  static OPEN = 1;
  static made = [];
  constructor(url, protocol) {
    super();
    this.url = url;
    this.protocol = protocol;
    this.readyState = 0;
    this.sent = [];
    FakeSocket.made.push(this);
  }
  send(text) {
    this.sent.push(JSON.parse(text));
  }
  open() {
    this.readyState = FakeSocket.OPEN;
    this.dispatchEvent(new Event('open'));
  }
  receive(envelope) {
    this.dispatchEvent(Object.assign(new Event('message'), { data: JSON.stringify(envelope) }));
  }
  closedBy(code, reason = '') {
    this.readyState = 3;
    this.dispatchEvent(Object.assign(new Event('close'), { code, reason }));
  }
}
globalThis.WebSocket = FakeSocket;
const { Connection } = await import('../../web/js/connection.js');

const settled = (promise) => promise.then((value) => ({ value }), (error) => ({ error }));

// The server answers in order: an error without an id (rate_limited, invalid_json) answers the
// oldest request still waiting, and the next reply with an id still finds its own.
{
  const connection = new Connection('ws://test/ws');
  connection.start();
  const socket = FakeSocket.made.at(-1);
  socket.open();
  const first = settled(connection.request('publish', { topic: 't', text: 'x' }));
  const second = settled(connection.request('subscribe', { topic: 't' }));
  socket.receive({ type: 'error', data: { code: 'rate_limited', message: 'too many messages' } });
  socket.receive({ type: 'subscribed', id: socket.sent[1].id, data: { topic: 't' } });
  const [a, b] = await Promise.all([first, second]);
  assert.equal(a.error?.code, 'rate_limited', 'the oldest request gets the error');
  assert.equal(b.value?.type, 'subscribed', 'the next one its own reply');
  socket.receive({ type: 'error', data: { code: 'invalid_json', message: 'x' } });  // nothing waits: a push
}

// After which close codes the page reconnects (docs/protocol.md, close codes).
const after = async (code, reason) => {
  const connection = new Connection('ws://test/ws', { baseDelay: 1, maxDelay: 1 });
  const states = [];
  connection.addEventListener('status', ({ detail }) => states.push(detail.state));
  connection.start();
  const socket = FakeSocket.made.at(-1);
  socket.open();
  const pending = settled(connection.request('hello', { text: 'hi' }));
  socket.closedBy(code, reason);
  assert.ok((await pending).error, 'a request pending at the close fails');
  const last = states.at(-1);
  if (last === 'reconnecting') await new Promise((resume) => setTimeout(resume, 20));
  return last;
};
for (const [code, reason] of [
  [1001, 'server shutting down'],
  [1006, ''],
  [1012, 'service restart'],
  [1008, 'slow consumer: outbound queue full'],
]) assert.equal(await after(code, reason), 'reconnecting', `${code} ${reason}`);
for (const [code, reason] of [
  [1002, ''],
  [1008, 'rate limit exceeded'],
  [1009, ''],
  [4000, 'disconnected by the application'],
  [4001, 'token expired'],
  [4401, 'authentication required'],
]) assert.equal(await after(code, reason), 'closed', `${code} ${reason}`);

// retryNow() (the page calls it when the browser is back online or the tab is shown) connects at
// once during a reconnect's wait, and does nothing while connected or after a stay-closed code.
{
  const connection = new Connection('ws://test/ws', { baseDelay: 60000, maxDelay: 60000 });
  connection.start();
  const first = FakeSocket.made.at(-1);
  first.open();
  assert.equal(connection.retryNow(), false, 'connected: nothing to cut short');
  first.closedBy(1006);
  const made = FakeSocket.made.length;
  assert.equal(connection.retryNow(), true, 'waiting to reconnect: connects now');
  assert.equal(FakeSocket.made.length, made + 1, 'one new socket');
  assert.equal(connection.retryNow(), false, 'connecting: no second socket');
  assert.equal(FakeSocket.made.length, made + 1);
  const second = FakeSocket.made.at(-1);
  second.open();
  assert.equal(connection.reconnects, 1);
  second.closedBy(4000, 'disconnected by the application');
  assert.equal(connection.retryNow(), false, 'closed for good: stays closed');
  assert.equal(FakeSocket.made.length, made + 1);
}

console.log('connection.js: ok');
