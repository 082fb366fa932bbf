// The dashboard's WebSocket connection: coropush.v1 envelopes, requests matched to their replies
// by id, pushes dispatched by type, and reconnection with jittered exponential backoff.
//
// Events (all CustomEvent, payload in `detail`):
//   status    {state: 'connecting'|'open'|'reconnecting'|'closed', delay?, code?, reason?}
//   open      {reconnected: boolean}           the connection is usable (again)
//   envelope  {envelope, direction: 'in'|'out'} every message, for logs
//   <type>    {envelope}                        a push (a message without a pending request id)

export const PROTOCOL = 'coropush.v1';

// Close codes after which the page stays closed (docs/protocol.md, close codes): the client did
// something wrong, and reconnecting would only repeat it (1002, 1003, 1007, 1008, 1009); the
// application ended the session (4000); or it needs a token this page does not have (4001, 4401).
// One 1008 is not the client's doing: "slow consumer", a queue filled by others' messages; the
// page reconnects after it (with backoff).
export const STAY_CLOSED_CODES = new Set([1002, 1003, 1007, 1008, 1009, 4000, 4001, 4401]);

export function staysClosed(code, reason = '') {
  return STAY_CLOSED_CODES.has(code) && !(code === 1008 && reason.startsWith('slow consumer'));
}

// Appends `item` to a log list, keeping only its last `keep` items: a page left open under a flood
// of messages does not grow without bound.
export function appendBounded(list, item, keep = 500) {
  list.append(item);
  while (list.childElementCount > keep) list.firstElementChild.remove();
}

export class ProtocolError extends Error {
  constructor(data) {
    super(`${data.code}: ${data.message}`);
    this.code = data.code;
  }
}

export class Connection extends EventTarget {
  #url;
  #socket = null;
  #nextId = 1;
  #pending = new Map();
  #attempt = 0;
  #timer = null;
  #opened = false;
  #baseDelay;
  #maxDelay;

  constructor(url, { baseDelay = 250, maxDelay = 10000 } = {}) {
    super();
    this.#url = url;
    this.#baseDelay = baseDelay;
    this.#maxDelay = maxDelay;
    this.reconnects = 0;
  }

  get isOpen() {
    return this.#socket !== null && this.#socket.readyState === WebSocket.OPEN;
  }

  start() {
    this.#connect();
  }

  // Cuts the wait before a reconnect short: the browser is back online, or the tab is shown
  // again. The backoff is not reset, so a page whose server is still away keeps backing off.
  // Returns whether it started a connection (not while connected, connecting or closed for good).
  retryNow() {
    if (this.#timer === null) return false;
    clearTimeout(this.#timer);
    this.#connect();
    return true;
  }

  // Sends a request and resolves with the reply envelope (same id); rejects with a ProtocolError
  // for an error envelope, or an Error if the connection ends first.
  request(type, data = {}) {
    if (!this.isOpen) return Promise.reject(new Error('not connected'));
    const id = this.#nextId++;
    const envelope = { type, id, data };
    const reply = new Promise((resolve, reject) => this.#pending.set(id, { resolve, reject }));
    this.#socket.send(JSON.stringify(envelope));
    this.#emit('envelope', { envelope, direction: 'out' });
    return reply;
  }

  #emit(name, detail) {
    this.dispatchEvent(new CustomEvent(name, { detail }));
  }

  #connect() {
    this.#timer = null;
    this.#emit('status', { state: 'connecting' });
    const socket = new WebSocket(this.#url, PROTOCOL);
    this.#socket = socket;
    socket.addEventListener('open', () => {
      const reconnected = this.#opened;
      this.#opened = true;
      this.#attempt = 0;
      if (reconnected) this.reconnects += 1;
      this.#emit('status', { state: 'open' });
      this.#emit('open', { reconnected });
    });
    socket.addEventListener('message', (event) => this.#receive(event.data));
    socket.addEventListener('close', (event) => this.#closed(event));
  }

  #receive(text) {
    let envelope;
    try {
      envelope = JSON.parse(text);
    } catch {
      console.warn('not JSON:', text);
      return;
    }
    this.#emit('envelope', { envelope, direction: 'in' });
    // The server answers a connection's requests in order, so an error without an id (a
    // request it did not read: rate_limited, invalid_json) answers the oldest one still waiting.
    const key = envelope.id === undefined && envelope.type === 'error' ? this.#pending.keys().next().value : envelope.id;
    const waiting = key !== undefined ? this.#pending.get(key) : undefined;
    if (waiting) {
      this.#pending.delete(key);
      if (envelope.type === 'error') waiting.reject(new ProtocolError(envelope.data));
      else waiting.resolve(envelope);
      return;
    }
    this.#emit(envelope.type, { envelope });
  }

  #closed(event) {
    for (const { reject } of this.#pending.values()) reject(new Error('connection closed'));
    this.#pending.clear();
    if (staysClosed(event.code, event.reason)) {
      // Say why and stay closed until the page is reloaded.
      this.#emit('status', { state: 'closed', code: event.code, reason: event.reason });
      return;
    }
    // Full jitter: a random delay up to an exponentially growing cap, so that many pages dropped
    // at once (a server restart) do not all come back in the same instant.
    const cap = Math.min(this.#maxDelay, this.#baseDelay * 2 ** this.#attempt);
    const delay = Math.round(Math.random() * cap);
    this.#attempt += 1;
    this.#emit('status', { state: 'reconnecting', delay, code: event.code, reason: event.reason });
    this.#timer = setTimeout(() => this.#connect(), delay);
  }
}
