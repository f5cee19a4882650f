'use strict';
// A raw `ws` broadcast server: what a hand-written Node server reaches. Same JSON shapes as
// Copresence protocol v1 (join/leave/update/broadcast -> joined/presence/broadcast/ack), so the
// one benchmark driver speaks to it. Each frame to a room is encoded once. `observe` (a benchmark
// extension, not Copresence protocol) puts the socket in a room without making it a member: it gets
// everything the members get, nobody is told, and it is answered with an `ack`.
const http = require('http');
const { WebSocketServer } = require('ws');
const { Rooms, mergeState, stats } = require('./rooms');

const port = Number(process.env.PORT || 8091);
const rooms = new Rooms();
let ids = 0;

const server = http.createServer((req, res) => {
  if (req.url === '/stats') {
    res.setHeader('content-type', 'application/json');
    res.end(stats());
  } else {
    res.end('ws-peer\n');
  }
});
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 1 << 20 });

function toOthers(doc, self, frame) {
  const room = rooms.rooms.get(doc);
  if (room) {
    for (const m of room.values()) {
      if (m !== self && m.ws.readyState === 1) m.ws.send(frame);
    }
  }
  const observers = rooms.observers.get(doc);
  if (observers) {
    for (const ws of observers) {
      if (ws.readyState === 1) ws.send(frame);
    }
  }
}

function publicMember(m, doc) {
  return { id: m.id, user: { id: m.user }, state: m.states.get(doc) };
}

wss.on('connection', (ws, req) => {
  const q = new URL(req.url, 'http://x').searchParams;
  const self = { id: 'm' + (++ids), user: q.get('user') || 'anon' + ids, ws, states: new Map() };
  const observing = new Set(); // docs this socket observes

  const leave = (doc, reason) => {
    if (!rooms.leave(doc, self.id)) return;
    const frame = JSON.stringify({ type: 'presence', doc, event: 'leave', member: publicMember(self, doc), reason });
    self.states.delete(doc);
    toOthers(doc, self, frame);
  };

  ws.on('message', (data, isBinary) => {
    let msg;
    try {
      msg = JSON.parse(data.toString());
    } catch (e) {
      ws.send('{"type":"error","code":"bad_json"}');
      return;
    }
    const doc = msg.doc;
    switch (msg.type) {
      case 'join': {
        self.states.set(doc, msg.state || {});
        const members = rooms.join(doc, self).map((m) => publicMember(m, doc));
        ws.send(JSON.stringify({ type: 'joined', doc, self: self.id, members }));
        toOthers(doc, self, JSON.stringify({ type: 'presence', doc, event: 'join', member: publicMember(self, doc) }));
        break;
      }
      case 'leave':
        leave(doc, 'left');
        ws.send(JSON.stringify({ type: 'ack', id: msg.id }));
        break;
      case 'update': {
        const state = self.states.get(doc);
        if (!state) break;
        mergeState(state, msg.state);
        toOthers(doc, self, JSON.stringify({ type: 'presence', doc, event: 'update', member: publicMember(self, doc) }));
        break;
      }
      case 'observe':
        if (typeof doc !== 'string') break;
        observing.add(doc);
        rooms.observe(doc, ws);
        ws.send(JSON.stringify({ type: 'ack', id: msg.id }));
        break;
      case 'broadcast':
        toOthers(doc, self, JSON.stringify({ type: 'broadcast', doc, from: self.id, data: msg.data }));
        break;
      default:
        ws.send('{"type":"error","code":"unknown_type"}');
    }
  });
  ws.on('close', () => {
    for (const doc of [...self.states.keys()]) leave(doc, 'closed');
    for (const doc of observing) rooms.unobserve(doc, ws);
  });
  ws.on('error', () => {});
});

server.listen(port, '127.0.0.1', () => console.log('ws-peer listening on ' + port));
