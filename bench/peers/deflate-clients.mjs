// Clients that negotiate permessage-deflate, for what the C load generators cannot measure (they
// do not offer it): the memory of idle connections that negotiated it, and the echo rate with it.
// Node `ws` (this folder's lockfile: npm ci), one process, pinned by the caller.
//
//   node deflate-clients.mjs conns --port P --conns N --hold S [--deflate] [--warm BYTES] [--ready-file F] [--path /]
//   node deflate-clients.mjs echo  --port P --conns N --depth D --seconds S --size B [--deflate]
//
// conns: opens N connections on PATH (100 handshakes in flight at a time); with --warm, each then
// sends one message of BYTES and awaits the answer (on the echo endpoint, the same message: the
// session has then compressed once each way, and Beast has allocated what it allocates on first
// use); then writes the count of open connections to the ready file and holds
// them S seconds. echo: N connections on the JSON dialect, D `echo` requests outstanding on each,
// texts of B bytes of JSON-like text (compressible); every reply's id and text is checked. Last
// line: key=value pairs, as the C load generator prints them.
import { writeFileSync } from 'node:fs';
import WebSocket from 'ws';

const [mode, ...rest] = process.argv.slice(2);
const args = { port: 0, conns: 100, hold: 10, depth: 1, seconds: 10, size: 64, warm: 0, deflate: false, path: '/' };
for (let i = 0; i < rest.length; i++) {
  const name = rest[i].replace(/^--/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase());
  if (name === 'deflate') args.deflate = true;
  else args[name] = /^\d+$/.test(rest[i + 1]) ? Number(rest[++i]) : rest[++i];
}
if (!['conns', 'echo'].includes(mode) || !args.port) {
  console.error('usage: node deflate-clients.mjs conns|echo --port P [options] (see the header)');
  process.exit(2);
}

// The offer: Chromium's, with no threshold of ours beyond the server's (ws's default is 1 KiB).
const perMessageDeflate = args.deflate ? { threshold: 256 } : false;

function open(path, protocols = []) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${args.port}${path}`, protocols, { perMessageDeflate });
    socket.once('open', () => resolve(socket));
    socket.once('error', reject);
  });
}

async function openMany(count, path, protocols) {
  const sockets = [];
  for (let at = 0; at < count; at += 100) {
    const batch = [];
    for (let i = at; i < Math.min(count, at + 100); i++) batch.push(open(path, protocols));
    sockets.push(...await Promise.all(batch));
  }
  return sockets;
}

function text(size, seed) {
  const pattern = `{"symbol":"AAPL","price":${187 + (seed % 13)}.5,"side":"buy","qty":${seed % 1000}},`;
  return pattern.repeat(Math.ceil(size / pattern.length)).slice(0, size);
}

if (mode === 'conns') {
  const sockets = await openMany(args.conns, args.path);
  const negotiated = sockets.filter((s) => s.extensions !== '').length;
  if (args.warm > 0) {
    await Promise.all(sockets.map((socket, i) => new Promise((resolve) => {
      const message = text(args.warm, i);
      socket.once('message', (data) => {
        if (args.path === '/echo' && data.toString() !== message) throw new Error('the echo differs');
        resolve();
      });
      socket.send(message);
    })));
  }
  if (args.readyFile) writeFileSync(args.readyFile, `${sockets.length}\n`);
  console.error(`holding ${sockets.length} connections (${negotiated} with deflate) for ${args.hold} s`);
  await new Promise((resolve) => setTimeout(resolve, args.hold * 1000));
  for (const socket of sockets) socket.terminate();
  console.log(`mode=conns conns=${sockets.length} deflate=${negotiated} warm=${args.warm} rc=0`);
  process.exit(0);
}

// echo
const sockets = await openMany(args.conns, '/', ['coropush.v1']);
const negotiated = sockets.filter((s) => s.extensions !== '').length;
let running = true;
let replies = 0;
let nextId = 1;
const latencies = [];
const started = new Map();
function request(socket) {
  const id = nextId++;
  const message = JSON.stringify({ type: 'echo', id, data: { text: text(args.size, id) } });
  started.set(id, process.hrtime.bigint());
  socket.send(message);
}
for (const socket of sockets) {
  socket.on('message', (data) => {
    const reply = JSON.parse(data.toString());
    if (reply.type !== 'echo' || reply.data.text !== text(args.size, reply.id)) throw new Error(`bad reply ${data}`);
    latencies.push(Number(process.hrtime.bigint() - started.get(reply.id)) / 1000);
    started.delete(reply.id);
    if (!running) return;
    replies++;
    request(socket);
  });
}
const cpu = process.cpuUsage();
const t0 = process.hrtime.bigint();
for (const socket of sockets) for (let d = 0; d < args.depth; d++) request(socket);
await new Promise((resolve) => setTimeout(resolve, args.seconds * 1000));
running = false;
const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
const used = process.cpuUsage(cpu);
latencies.sort((a, b) => a - b);
const pick = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0);
const rate = replies / elapsed;
console.log(`mode=echo conns=${sockets.length} deflate=${negotiated} depth=${args.depth} size=${args.size} `
  + `msgs_per_s=${Math.round(rate)} p50_us=${pick(0.5)} p99_us=${pick(0.99)} `
  + `client_cpu=${Math.round(((used.user + used.system) / 1e6 / elapsed) * 100)}% rc=0`);
for (const socket of sockets) socket.terminate();
process.exit(0);
