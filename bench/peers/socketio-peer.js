'use strict';
// Socket.IO 4, the most common choice for this job; with REDIS_URL set, the Redis adapter joins the
// processes into one cluster (socket.to(room) reaches the sockets of every process). Same work as
// the other peers: join a room with a state, leave, update, broadcast to the room. `observe` (a
// benchmark extension) joins the Socket.IO room only: the socket gets what the room is sent, but is
// no member (nobody is told, no member list); answered with an `ack` event. Socket.IO itself takes
// the socket out of its rooms when it disconnects.
// WebSocket transport only: the driver speaks Engine.IO 4 framing (0 open, 40 connect, 42 event).
const http = require('http');
const { Server } = require('socket.io');
const { Rooms, mergeState, stats } = require('./rooms');

const port = Number(process.env.PORT || 8092);
const rooms = new Rooms(); // the members connected to this process

const server = http.createServer((req, res) => {
  if (req.url === '/stats') {
    res.setHeader('content-type', 'application/json');
    res.end(stats());
  }
});
const io = new Server(server, { transports: ['websocket'], serveClient: false, maxHttpBufferSize: 1 << 20 });

async function main() {
  if (process.env.REDIS_URL) {
    const { createClient } = require('redis');
    const { createAdapter } = require('@socket.io/redis-adapter');
    const pub = createClient({ url: process.env.REDIS_URL });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
  }

  io.on('connection', (socket) => {
    const self = { id: socket.id, user: socket.handshake.query.user || socket.id, states: new Map() };
    const pub = (doc) => ({ id: self.id, user: { id: self.user }, state: self.states.get(doc) });

    const leave = (doc, reason) => {
      if (!rooms.leave(doc, self.id)) return;
      const member = pub(doc);
      self.states.delete(doc);
      socket.leave(doc);
      socket.to(doc).emit('presence', { doc, event: 'leave', member, reason });
    };

    socket.on('join', (msg) => {
      const doc = msg && msg.doc;
      if (typeof doc !== 'string') return;
      self.states.set(doc, (msg && msg.state) || {});
      socket.join(doc);
      const members = rooms.join(doc, self).map((m) => ({ id: m.id, user: { id: m.user }, state: m.states.get(doc) }));
      socket.emit('joined', { doc, self: self.id, members });
      socket.to(doc).emit('presence', { doc, event: 'join', member: pub(doc) });
    });
    socket.on('observe', (msg) => {
      const doc = msg && msg.doc;
      if (typeof doc !== 'string') return;
      socket.join(doc);
      socket.emit('ack', { id: msg.id });
    });
    socket.on('leave', (msg) => {
      leave(msg && msg.doc, 'left');
      socket.emit('left', { id: msg && msg.id });
    });
    socket.on('update', (msg) => {
      const state = self.states.get(msg && msg.doc);
      if (!state) return;
      mergeState(state, msg.state);
      socket.to(msg.doc).emit('presence', { doc: msg.doc, event: 'update', member: pub(msg.doc) });
    });
    socket.on('broadcast', (msg) => {
      if (!msg || typeof msg.doc !== 'string') return;
      socket.to(msg.doc).emit('broadcast', { doc: msg.doc, from: self.id, data: msg.data });
    });
    socket.on('disconnect', () => {
      for (const doc of [...self.states.keys()]) leave(doc, 'closed');
    });
  });

  server.listen(port, '127.0.0.1', () => console.log('socketio-peer listening on ' + port));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
