// Clients for bench/client-memory.sh: what browsers do that the load driver does not.
//   node memory-clients.js keys DIR                       an RSA key pair for jwt mode (DIR/public.pem, DIR/private.pem)
//   node memory-clients.js sockets PORT N AUTH DEFLATE PAD [KEYDIR] [PREFIX]
//       N sockets to /ws, each joined to a document of 10 members (documents and users named after
//       PREFIX, default "m"); prints READY once all are in.
//       AUTH: plain (user in the query) | query (a ~1 KB JWT as access_token) | header (the same as Authorization)
//       DEFLATE: off | on (offer permessage-deflate and compress every message, as browsers do)
//       PAD: then send one ping padded with PAD bytes (0: none)
//   node memory-clients.js bomb PORT MB                    one message of MB MiB that deflates to ~1/1000 of it,
//       sent compressed when the server accepts compression
//   node memory-clients.js pings PORT N                    N WebSocket pings from a client that reads nothing
//       (sent while the server reads them; what the client could not send in 15 s is not sent)
const WebSocket = require('ws');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const [mode, ...args] = process.argv.slice(2);

if (mode === 'keys') {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  fs.writeFileSync(path.join(args[0], 'public.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  fs.writeFileSync(path.join(args[0], 'private.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }));
} else if (mode === 'sockets') {
  const [port, n, auth, deflate, pad, keyDir, prefix] = [args[0], +args[1], args[2], args[3], +args[4], args[5] || '', args[6] || 'm'];
  const key = auth !== 'plain' ? fs.readFileSync(path.join(keyDir, 'private.pem')) : null;
  const b64 = o => Buffer.from(JSON.stringify(o)).toString('base64url');
  // claims of the size an identity provider issues: the token is about 1 KB
  const token = i => {
    const now = Math.floor(Date.now() / 1000);
    const body = b64({ alg: 'RS256', typ: 'JWT', kid: 'bench' }) + '.' + b64({ iss: 'https://copresence.bench', sub: `${prefix}-user-${i}`,
      aud: 'copresence', iat: now, exp: now + 3600, name: 'User Number ' + i, email: `user${i}@example.com`,
      scope: 'openid profile email documents:read documents:write', sid: crypto.randomUUID(), jti: crypto.randomUUID(),
      roles: ['editor', 'viewer'], azp: 'web-app', preferred_username: 'user' + i, email_verified: true, auth_time: now });
    return body + '.' + crypto.sign('RSA-SHA256', Buffer.from(body), key).toString('base64url');
  };
  let ready = 0, tokenLength = 0, extensions;
  const done = () => { if (++ready === n) console.log('READY', n, 'token length', tokenLength, 'extensions', extensions || 'none'); };
  for (let i = 0; i < n; i++) {
    const t = auth === 'plain' ? null : token(i);
    tokenLength = t ? t.length : 0;
    const url = `ws://127.0.0.1:${port}/ws` + (auth === 'plain' ? `?user=${prefix}-u${i}` : auth === 'query' ? `?access_token=${t}` : '');
    const ws = new WebSocket(url, {
      perMessageDeflate: deflate === 'on' ? { threshold: 0 } : false,
      headers: auth === 'header' ? { Authorization: 'Bearer ' + t } : {},
    });
    ws.on('upgrade', r => { extensions = r.headers['sec-websocket-extensions']; });
    ws.on('open', () => ws.send(JSON.stringify({ type: 'join', doc: `${prefix}-d${Math.floor(i / 10)}`, id: 'j', state: { x: i } })));
    ws.on('message', m => {
      const s = String(m);
      if (s.includes('"joined"')) {
        if (pad > 0) ws.send(JSON.stringify({ type: 'ping', id: 'p', pad: 'x'.repeat(pad) })); else done();
      } else if (s.includes('"pong"')) {
        done();
      }
    });
    ws.on('error', e => { console.error('socket failed:', e.message); process.exit(1); });
  }
  setInterval(() => {}, 1 << 30);
} else if (mode === 'bomb') {
  const [port, mb] = [args[0], +args[1]];
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?user=bomb`, { perMessageDeflate: { threshold: 0 } });
  let extensions;
  ws.on('upgrade', r => { extensions = r.headers['sec-websocket-extensions']; });
  ws.on('open', () => ws.send(JSON.stringify({ type: 'ping', id: 'p', pad: 'x'.repeat(mb * 1024 * 1024) })));
  ws.on('close', (code, reason) => { console.log(`extensions ${extensions || 'none'}, closed ${code} ${String(reason)}`); process.exit(0); });
  ws.on('error', () => {});
} else if (mode === 'pings') {
  // a client that sends N pings of 125 bytes and reads nothing once upgraded: each ping asks for a pong
  const net = require('net');
  const [port, n] = [+args[0], +args[1]];
  const socket = net.connect({ port, host: '127.0.0.1' }, () => {
    socket.write(`GET /ws?user=pinger HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
  });
  const mask = Buffer.from([1, 2, 3, 4]);
  const ping = Buffer.concat([Buffer.from([0x89, 0x80 | 125]), mask, Buffer.alloc(125, 'p').map((b, i) => b ^ mask[i % 4])]);
  const batch = Buffer.concat(Array(1000).fill(ping));
  let sent = 0, upgraded = false, stalled;
  const started = Date.now();
  const finish = why => { console.log(`sent ${sent} pings in ${((Date.now() - started) / 1000).toFixed(1)} s: ${why}`); process.exit(0); };
  const pump = () => {
    while (sent < n) {
      sent += 1000;
      if (!socket.write(batch)) { // the server stopped reading: wait for it, at most 15 s
        stalled = setTimeout(() => finish('the server stopped reading'), 15000);
        socket.once('drain', () => { clearTimeout(stalled); pump(); });
        return;
      }
    }
    setTimeout(() => finish('all sent, held 5 s'), 5000);
  };
  socket.on('data', d => {
    if (upgraded) return;
    if (!String(d).startsWith('HTTP/1.1 101')) { console.error('upgrade refused: ' + String(d).split('\r\n')[0]); process.exit(1); }
    upgraded = true;
    socket.pause(); // read nothing more: the pongs stay with the server and the kernel
    pump();
  });
  socket.on('error', e => finish('connection ' + e.code));
  socket.on('close', () => finish('connection closed'));
} else {
  console.error('usage: memory-clients.js keys DIR | sockets PORT N AUTH DEFLATE PAD [KEYDIR] [PREFIX] | bomb PORT MB | pings PORT N');
  process.exit(2);
}
