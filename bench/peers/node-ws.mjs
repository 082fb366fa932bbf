// Peer: the bench JSON protocol on Node.js with the npm package `ws` (8.x). Usage: node node-ws.mjs PORT
// Upgrades on "/" and "/ws"; one JSON envelope per text frame; a publish is serialized once for all subscribers.
// A client that offers no subprotocol gets the seed demo instead (welcome now, notice a second later).
import http from 'node:http';
import { WebSocketServer } from 'ws';

const port = Number(process.argv[2] || 8080);
const topics = new Map(); // topic -> Set<WebSocket>

const server = http.createServer((req, res) => { res.writeHead(426); res.end(); });
const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 });
server.on('upgrade', (req, socket, head) => {
  const path = req.url.split('?')[0];
  if (path !== '/' && path !== '/ws') { socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n'); return; }
  wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws));
});

function onConnection(ws) {
  if (ws.protocol !== 'coropush.v1') {
    ws.on('error', () => {});
    ws.on('message', (raw, isBinary) => {
      if (isBinary) return;
      ws.send('欢迎你朋友！');
      setTimeout(() => { if (ws.readyState === 1) ws.send('朋友，既然来就多看看！'); }, 1000);
    });
    return;
  }
  const mine = new Set();
  const reply = (o) => ws.send(JSON.stringify(o));
  ws.on('close', () => { for (const t of mine) { const s = topics.get(t); if (s) { s.delete(ws); if (!s.size) topics.delete(t); } } });
  ws.on('error', () => {});
  ws.on('message', (raw, isBinary) => {
    let m;
    try { m = JSON.parse(isBinary ? raw.toString() : raw.toString()); } catch { return reply({ type: 'error', data: { code: 'bad_json' } }); }
    if (m === null || typeof m !== 'object' || typeof m.type !== 'string') return reply({ type: 'error', data: { code: 'bad_envelope' } });
    const d = (m.data && typeof m.data === 'object') ? m.data : {};
    switch (m.type) {
      case 'echo':
        return reply({ type: 'echo', id: m.id, data: { text: d.text } });
      case 'subscribe': {
        const t = String(d.topic);
        let s = topics.get(t); if (!s) topics.set(t, (s = new Set()));
        s.add(ws); mine.add(t);
        return reply({ type: 'subscribed', id: m.id, data: { topic: t } });
      }
      case 'publish': {
        const t = String(d.topic);
        const s = topics.get(t);
        let k = 0;
        if (s && s.size) {
          const frame = Buffer.from(JSON.stringify({ type: 'message', data: { topic: t, text: d.text } }));
          for (const sub of s) if (sub.readyState === 1) { sub.send(frame, { binary: false }); k++; }
        }
        return reply({ type: 'published', id: m.id, data: { topic: t, delivered: k } });
      }
      default:
        return reply({ type: 'error', id: m.id, data: { code: 'unknown_type' } });
    }
  });
}

server.listen(port, '127.0.0.1', () => console.error(`node-ws peer listening on 127.0.0.1:${port}`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
