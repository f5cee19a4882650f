// Opens N /sse/status streams of USERS users each, prints READY once every stream has had its
// opening status events, then holds them open until killed.
// node sse-streams.js PORT N [USERS]
const http = require('http');
const [port, n, usersPer] = [process.argv[2], +process.argv[3], +(process.argv[4] || 2)];
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
let ready = 0;
for (let i = 0; i < n; i++) {
  const users = Array.from({ length: usersPer }, (_, j) => `u${i}-${j}`).join(',');
  http.get({ host: '127.0.0.1', port, path: `/sse/status?users=${users}`, agent }, res => {
    let seen = 0;
    let counted = false;
    res.on('data', d => {
      seen += (d.toString().match(/event: ?status/g) || []).length;
      if (seen >= usersPer && !counted) {
        counted = true;
        if (++ready === n) console.log('READY', n);
      }
    });
  }).on('error', e => { console.error('stream failed:', e.message); process.exit(1); });
}
setInterval(() => {}, 1 << 30);
