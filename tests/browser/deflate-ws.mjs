// permessage-deflate (--deflate) against another implementation: the Node `ws` client, which
// offers it as Chromium does. Large compressible and incompressible messages, sent in fragments,
// come back byte for byte in both directions, and the bytes on the wire show the compression.
//
//   node deflate-ws.mjs <coropush executable>
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer as startCoropush } from './coropush-server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const [coropushPath] = process.argv.slice(2);
if (!coropushPath) {
  console.error('usage: node deflate-ws.mjs <coropush>');
  process.exit(2);
}
if (!existsSync(path.join(here, 'node_modules', 'ws'))) {
  console.error('ws is not installed: run scripts/install-deps.sh test (or npm ci in tests/browser)');
  process.exit(1);
}
const { default: WebSocket } = await import('ws');

const MIB = 1024 * 1024;
const DEFAULT_ANSWER = 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; '
  + 'server_max_window_bits=10; client_max_window_bits=10';
const overall = setTimeout(() => {
  console.error('FAIL: the deflate test did not finish within 100 s');
  process.exit(1);
}, 100_000);

const startServer = (args) => startCoropush(coropushPath, ['--port', '0', '--echo-path', '/echo', ...args]);

function check(condition, message) {
  if (!condition) throw new Error(message);
}

// Opens a client; `deflate` is ws's perMessageDeflate option (false: no offer). `answer` is the
// server's Sec-WebSocket-Extensions header ('' when none; ws's own `extensions` lists names only).
async function connect(port, pathname, deflate, protocol) {
  const socket = new WebSocket(`ws://127.0.0.1:${port}${pathname}`, protocol ? [protocol] : [], {
    perMessageDeflate: deflate,
    maxPayload: 64 * MIB,
  });
  socket.once('upgrade', (response) => { socket.answer = response.headers['sec-websocket-extensions'] ?? ''; });
  await once(socket, 'open');
  return socket;
}

function nextMessage(socket) {
  return new Promise((resolve, reject) => {
    socket.once('message', (data, isBinary) => resolve({ data, isBinary }));
    socket.once('close', (code) => reject(new Error(`closed with ${code} while waiting for a message`)));
  });
}

// Sends `payload` in fragments of `fragment` bytes, waits for the echo, and returns the bytes that
// crossed the wire each way meanwhile (frame headers included).
async function echoInFragments(socket, payload, binary, fragment = 256 * 1024) {
  const tcp = socket._socket;
  const written = tcp.bytesWritten;
  const read = tcp.bytesRead;
  const reply = nextMessage(socket);
  for (let at = 0; at < payload.length; at += fragment) {
    const fin = at + fragment >= payload.length;
    socket.send(payload.subarray(at, at + fragment), { binary, compress: true, fin });
  }
  const { data, isBinary } = await reply;
  check(isBinary === binary, `a ${binary ? 'binary' : 'text'} message came back as ${isBinary ? 'binary' : 'text'}`);
  check(Buffer.compare(data, payload) === 0, `the echo of ${payload.length} bytes differs (${data.length} bytes back)`);
  return { sent: tcp.bytesWritten - written, received: tcp.bytesRead - read };
}

async function close(socket) {
  socket.close(1000);
  await once(socket, 'close');
}

const failures = [];
async function step(name, body) {
  const started = Date.now();
  try {
    await body();
    console.log(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (error) {
    failures.push(name);
    console.log(`FAIL ${name}: ${error.message}`);
  }
}

const servers = [];
try {
  const server = await startServer(['--deflate', '--echo-max-message', '16m']);
  servers.push(server);
  const json = Buffer.from(`[${'{"type":"message","data":{"topic":"prices","message":{"symbol":"AAPL","price":187.5}}},'.repeat(51 * 1024)}0]`);
  const noise = randomBytes(4 * MIB);

  await step('ws offers deflate and coropush --deflate accepts it, without context takeover', async () => {
    const socket = await connect(server.port, '/echo', { threshold: 0 });
    check(socket.answer === DEFAULT_ANSWER, `negotiated ${JSON.stringify(socket.answer)}`);
    await close(socket);
  });

  await step('4 MiB of repeated JSON, in fragments, comes back exactly and compressed both ways', async () => {
    const socket = await connect(server.port, '/echo', { threshold: 0 });
    const wire = await echoInFragments(socket, json, false);
    check(wire.sent < json.length / 20, `${wire.sent} bytes sent for ${json.length}: not compressed`);
    check(wire.received < json.length / 20, `${wire.received} bytes received for ${json.length}: not compressed`);
    console.log(`     ${json.length} bytes each way; on the wire: ${wire.sent} sent, ${wire.received} received`);
    await close(socket);
  });

  await step('4 MiB of random bytes, in fragments, comes back exactly (deflate cannot shrink it)', async () => {
    const socket = await connect(server.port, '/echo', { threshold: 0 });
    const wire = await echoInFragments(socket, noise, true);
    // Deflate's stored blocks and the 4 KiB frames cost about 1 % on bytes it cannot shrink.
    check(wire.received < noise.length * 1.02, `${wire.received} bytes received for ${noise.length}`);
    console.log(`     ${noise.length} bytes each way; on the wire: ${wire.sent} sent, ${wire.received} received`);
    // And the same connection goes on: a small message, then the JSON again (no context kept).
    const small = await echoInFragments(socket, Buffer.from('small'), false);
    check(small.received < 16, `a 5-byte echo took ${small.received} bytes`);
    await echoInFragments(socket, json, false);
    await close(socket);
  });

  await step('the JSON dialect echoes a compressed 40 KiB text', async () => {
    const socket = await connect(server.port, '/ws', { threshold: 0 }, 'coropush.v1');
    check(socket.protocol === 'coropush.v1', `subprotocol ${socket.protocol}`);
    check(socket.answer === DEFAULT_ANSWER, `negotiated ${JSON.stringify(socket.answer)}`);
    const text = 'coropush '.repeat(4551);
    const reply = nextMessage(socket);
    socket.send(JSON.stringify({ type: 'echo', id: 1, data: { text } }));
    const envelope = JSON.parse((await reply).data.toString());
    check(envelope.type === 'echo' && envelope.id === 1 && envelope.data.text === text, 'the echo differs');
    await close(socket);
  });

  await step("a bare offer (Firefox's) is accepted with the client's window left to the client", async () => {
    const socket = await connect(server.port, '/echo', { threshold: 0, clientMaxWindowBits: false });
    check(socket.answer === 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=10',
      `negotiated ${JSON.stringify(socket.answer)}`);
    await echoInFragments(socket, json, false);
    await close(socket);
  });

  await step('a client that offers nothing gets nothing, and the metric counts the others', async () => {
    const socket = await connect(server.port, '/echo', false);
    check(socket.answer === '', `negotiated ${JSON.stringify(socket.answer)}`);
    const wire = await echoInFragments(socket, json.subarray(0, 64 * 1024), false);
    check(wire.received > 64 * 1024, `${wire.received} bytes for 64 KiB uncompressed`);
    await close(socket);
    const counted = await server.metric('coropush_websocket_sessions_deflate_total');
    check(counted === 5, `coropush_websocket_sessions_deflate_total is ${counted}, expected 5`);
  });

  await step('without --deflate the offer is declined', async () => {
    const plain = await startServer([]);
    servers.push(plain);
    const socket = await connect(plain.port, '/echo', { threshold: 0 });
    check(socket.answer === '', `negotiated ${JSON.stringify(socket.answer)}`);
    const wire = await echoInFragments(socket, json.subarray(0, 64 * 1024), false);
    check(wire.received > 64 * 1024, `${wire.received} bytes for 64 KiB uncompressed`);
    await close(socket);
    const counted = await plain.metric('coropush_websocket_sessions_deflate_total');
    check(counted === 0, `coropush_websocket_sessions_deflate_total is ${counted}`);
  });
} catch (error) {
  failures.push('setup');
  console.log(`FAIL setup: ${error.stack || error.message}`);
} finally {
  for (const server of servers) await server.stop().catch(() => {});
  clearTimeout(overall);
}

if (failures.length > 0) {
  console.log(`${failures.length} step(s) failed: ${failures.join(', ')}`);
  process.exit(1);
}
console.log('all steps passed');
