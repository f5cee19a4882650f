// Reconnection rules of copresence.js, with a scripted socket: backoff and jitter bounds, the rule
// never to send on a socket that is not OPEN, close codes not retried blindly, and liveness.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { Copresence, backoffDelay } from '../../main/resources/META-INF/resources/copresence.js';
import { FakeWebSocket } from './fake-websocket.js';
import { sleep, until } from './service.js';

beforeEach(() => FakeWebSocket.reset());

test('backoff is full jitter under a cap that doubles from 0.5 s to 20 s', () => {
  const caps = [500, 1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000];
  caps.forEach((cap, attempt) => {
    assert.equal(backoffDelay(attempt, { random: () => 0 }), 0);
    const top = backoffDelay(attempt, { random: () => 0.999999 });
    assert.ok(top < cap && top >= cap - 1, `attempt ${attempt}: ${top} not just under ${cap}`);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(attempt);
      assert.ok(d >= 0 && d < cap, `attempt ${attempt}: ${d} outside [0, ${cap})`);
    }
  });
});

test('reconnect attempts wait the jittered delays, then the backoff resets after a stable connection', async () => {
  const cp = new Copresence('ws://fake/ws', {
    WebSocket: FakeWebSocket,
    backoffInitial: 40,
    backoffMax: 160,
    stableAfter: 100,
    random: () => 0.75,
  });
  const delays = [];
  const gaps = [];
  cp.on('reconnect', ({ delay }) => delays.push(delay));
  for (let i = 0; i < 4; i++) {
    const before = FakeWebSocket.instances.length;
    const failedAt = Date.now();
    FakeWebSocket.last.serverClose(1006);
    await until(() => FakeWebSocket.instances.length > before, { what: 'a reconnect' });
    gaps.push(Date.now() - failedAt);
  }
  assert.deepEqual(delays, [30, 60, 120, 120]);
  gaps.forEach((gap, i) => assert.ok(gap >= delays[i] - 2, `attempt ${i} came after ${gap} ms, before its ${delays[i]} ms`));

  // Open long enough to count as stable: the next failure starts again from the first cap.
  FakeWebSocket.last.open();
  await sleep(150);
  FakeWebSocket.last.serverClose(1006);
  assert.equal(delays.at(-1), 30);
  cp.close();
});

test('nothing is sent on a socket that is not OPEN: messages wait in a bounded queue', async () => {
  const cp = new Copresence('ws://fake/ws', { WebSocket: FakeWebSocket, queueSize: 3, backoffInitial: 10 });
  const doc = cp.join('d');
  const results = [];
  for (let i = 0; i < 5; i++) doc.broadcast(i).then(() => results.push(`ok ${i}`), (e) => results.push(`${e.code} ${i}`));
  doc.update({ cursor: 1 });
  doc.typing();
  assert.equal(cp.queued, 3);
  await sleep(0);
  assert.deepEqual(results, ['queue_full 0', 'queue_full 1']);

  FakeWebSocket.last.open();
  const sent = FakeWebSocket.last.sent;
  assert.equal(sent[0].type, 'join');
  assert.deepEqual(sent[0].state, { cursor: 1 }, 'the state merged while away travels with the join');
  assert.deepEqual(sent.slice(1).map((m) => m.data), [2, 3, 4]);
  assert.equal(cp.queued, 0);
  sent.slice(1).forEach((m) => FakeWebSocket.last.receive({ type: 'ack', id: m.id }));
  await sleep(0);
  assert.deepEqual(results.slice(2), ['ok 2', 'ok 3', 'ok 4']);
  cp.close();
});

for (const code of [1008, 4403, 4401]) {
  test(`close ${code} is not retried blindly`, async () => {
    const cp = new Copresence('ws://fake/ws', { WebSocket: FakeWebSocket, backoffInitial: 5 });
    const errors = [];
    cp.on('error', (e) => errors.push(e));
    FakeWebSocket.last.open();
    FakeWebSocket.last.serverClose(code, 'no');
    await sleep(50);
    assert.equal(FakeWebSocket.instances.length, 1);
    assert.equal(cp.state, 'closed');
    assert.equal(errors[0].closeCode, code);
  });
}

test('4401 with getToken reconnects with the fresh token', async () => {
  const cp = new Copresence('ws://fake/ws', { WebSocket: FakeWebSocket, backoffInitial: 5, token: 'old', getToken: async () => 'new' });
  FakeWebSocket.last.open();
  FakeWebSocket.last.serverClose(4401);
  await until(() => FakeWebSocket.instances.length === 2);
  assert.match(FakeWebSocket.last.url, /access_token=new/);
  cp.close();
});

test('a silent connection is pinged, then given up and replaced', async () => {
  const cp = new Copresence('ws://fake/ws', { WebSocket: FakeWebSocket, pingAfter: 60, pongTimeout: 60, backoffInitial: 5 });
  const first = FakeWebSocket.last;
  first.open();
  await until(() => first.sent.some((m) => m.type === 'ping'), { what: 'a ping' });
  await until(() => FakeWebSocket.instances.length === 2, { what: 'a new connection' });
  assert.equal(first.readyState, 3);
  cp.close();
});

test('an answered ping keeps the connection', async () => {
  const cp = new Copresence('ws://fake/ws', { WebSocket: FakeWebSocket, pingAfter: 60, pongTimeout: 60 });
  const ws = FakeWebSocket.last;
  ws.open();
  await until(() => ws.sent.some((m) => m.type === 'ping'));
  ws.receive({ type: 'pong' });
  await sleep(90);
  assert.equal(FakeWebSocket.instances.length, 1);
  assert.equal(cp.state, 'open');
  cp.close();
});
