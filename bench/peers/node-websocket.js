// Peer: the bench JSON protocol on Node.js with the npm package `websocket` (WebSocket-Node 1.0.35),
// the library of the original blog sample. Usage: node node-websocket.js PORT
// Library defaults are kept (keepalive pings every 20 s, Nagle disabled); upgrades on "/" and "/ws".
// A client that offers the subprotocol coropush.v1 speaks the JSON protocol; one that offers none
// gets the seed server's own behaviour (welcome now, notice a second later), for the seed workload.
const http = require('http');
const WebSocketServer = require('websocket').server;

const port = Number(process.argv[2] || 8080);
const topics = new Map(); // topic -> Set<connection>

const server = http.createServer((req, res) => { res.writeHead(426); res.end(); });
const wss = new WebSocketServer({ httpServer: server, autoAcceptConnections: false, maxReceivedMessageSize: 1 << 20 });

wss.on('request', (request) => {
  if (request.resourceURL.pathname !== '/' && request.resourceURL.pathname !== '/ws') { request.reject(404); return; }
  const json = request.requestedProtocols.includes('coropush.v1');
  const c = request.accept(json ? 'coropush.v1' : null, request.origin);
  if (!json) {
    c.on('error', () => {});
    c.on('message', (message) => {
      if (message.type !== 'utf8') return;
      c.sendUTF('欢迎你朋友！');
      setTimeout(() => { if (c.connected) c.sendUTF('朋友，既然来就多看看！'); }, 1000);
    });
    return;
  }
  const mine = new Set();
  const reply = (o) => c.sendUTF(JSON.stringify(o));
  c.on('close', () => { for (const t of mine) { const s = topics.get(t); if (s) { s.delete(c); if (!s.size) topics.delete(t); } } });
  c.on('error', () => {});
  c.on('message', (msg) => {
    let m;
    try { m = JSON.parse(msg.type === 'utf8' ? msg.utf8Data : msg.binaryData.toString()); } catch { return reply({ type: 'error', data: { code: 'bad_json' } }); }
    if (m === null || typeof m !== 'object' || typeof m.type !== 'string') return reply({ type: 'error', data: { code: 'bad_envelope' } });
    const d = (m.data && typeof m.data === 'object') ? m.data : {};
    switch (m.type) {
      case 'echo':
        return reply({ type: 'echo', id: m.id, data: { text: d.text } });
      case 'subscribe': {
        const t = String(d.topic);
        let s = topics.get(t); if (!s) topics.set(t, (s = new Set()));
        s.add(c); mine.add(t);
        return reply({ type: 'subscribed', id: m.id, data: { topic: t } });
      }
      case 'publish': {
        const t = String(d.topic);
        const s = topics.get(t);
        let k = 0;
        if (s && s.size) {
          const out = JSON.stringify({ type: 'message', data: { topic: t, text: d.text } });
          for (const sub of s) if (sub.connected) { sub.sendUTF(out); k++; }
        }
        return reply({ type: 'published', id: m.id, data: { topic: t, delivered: k } });
      }
      default:
        return reply({ type: 'error', id: m.id, data: { code: 'unknown_type' } });
    }
  });
});

server.listen(port, '127.0.0.1', () => console.error(`node-websocket peer listening on 127.0.0.1:${port}`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
