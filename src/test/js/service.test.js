// copresence.js against the real service (the packaged jar), started by the test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { Copresence } from '../../main/resources/META-INF/resources/copresence.js';
import { Node, freePort, hasRedis, startRedis, until } from './service.js';

const fast = { WebSocket, backoffInitial: 100, backoffMax: 1000, typingIdle: 300 };
let docs = 0;
const doc = () => `js-${++docs}-${Date.now().toString(36)}`;

function collect(emitter, event) {
  const seen = [];
  emitter.on(event, (...args) => seen.push(args.length === 1 ? args[0] : args));
  return seen;
}

let node;
before(async () => {
  node = await new Node(await freePort()).start();
});
after(async () => {
  await node?.stop();
});

test('two clients see each other, broadcasts, coalesced cursor updates and typing that stops by itself', async (t) => {
  const d = doc();
  const ada = new Copresence(node.ws, { ...fast, user: 'ada', name: 'Ada' });
  const bob = new Copresence(node.ws, { ...fast, user: 'bob', name: 'Bob' });
  t.after(() => [ada, bob].forEach((c) => c.close()));
  const a = ada.join(d, { state: { color: 'red' } });
  await a.ready();
  const joins = collect(a, 'join');
  const b = bob.join(d);
  await b.ready();
  await until(() => joins.length === 1, { what: 'ada sees bob join' });
  assert.equal(joins[0].user.name, 'Bob');
  assert.equal(b.members.size, 2);

  const updates = collect(b, 'update');
  for (let i = 1; i <= 10; i++) a.cursor(i);
  await until(() => updates.length >= 1 && updates.at(-1).state.cursor === 10, { what: 'the cursor' });
  assert.equal(updates.length, 1, 'ten cursor moves in one tick travel as one update');
  assert.equal(updates[0].state.color, 'red');

  const typing = collect(b, 'typing');
  a.typing();
  a.typing();
  await until(() => typing.length === 2, { what: 'typing on, then off by itself' });
  assert.deepEqual(typing.map((e) => e.typing), [true, false]);

  const got = collect(b, 'broadcast');
  await a.broadcast({ text: 'hi' });
  await until(() => got.length === 1);
  assert.deepEqual(got[0].data, { text: 'hi' });
  assert.equal(got[0].from, a.self);

  const leaves = collect(a, 'leave');
  b.leave();
  await until(() => leaves.length === 1);
  assert.equal(leaves[0][1], 'left');
});

test('status of watched users', async (t) => {
  const watcher = new Copresence(node.ws, fast);
  t.after(() => watcher.close());
  const statuses = collect(watcher, 'status');
  const user = `w${Date.now().toString(36)}`;
  watcher.watch([user]);
  await until(() => statuses.length === 1);
  assert.equal(statuses[0].online, false);
  const c = new Copresence(node.ws, { ...fast, user });
  await until(() => statuses.length === 2);
  assert.equal(statuses[1].online, true);
  c.close();
  await until(() => statuses.length === 3);
  assert.equal(statuses[2].online, false);
});

test('messages wait while the server is down and go out after the restart; the member list is rebuilt', async (t) => {
  const own = await new Node(await freePort()).start();
  t.after(() => own.stop());
  const d = doc();
  const cp = new Copresence(own.ws, { ...fast, user: 'ada' });
  t.after(() => cp.close());
  const a = cp.join(d, { state: { cursor: 1 } });
  await a.ready();
  const states = collect(cp, 'state');

  await own.stop();
  await until(() => cp.state === 'reconnecting' || cp.state === 'connecting', { what: 'reconnecting' });
  const sent = a.broadcast('while away');
  a.update({ cursor: 2 });
  assert.equal(cp.queued, 1);

  const members = collect(a, 'members');
  await own.start();
  await until(() => members.length === 1, { what: 're-joined', timeout: 20000 });
  // An in-memory node lost its history in the restart: the client cannot resume and rebuilds.
  assert.equal(members[0][1].resumed, false);
  assert.equal(members[0][0].length, 1);
  assert.deepEqual(members[0][0][0].state, { cursor: 2 });
  await sent;
  assert.equal(cp.queued, 0);
  assert.ok(states.includes('reconnecting') && states.at(-1) === 'open', states.join(' → '));
});

test('a server restart in the middle: the client reconnects, resumes and misses nothing durable', async (t) => {
  if (!hasRedis()) {
    t.skip('redis-server is not on PATH: a restart can only resume where the log outlives the node');
    return;
  }
  const redis = await startRedis();
  t.after(() => redis.stop());
  const env = { QUARKUS_REDIS_HOSTS: redis.url };
  const a = await new Node(await freePort(), env).start();
  const b = await new Node(await freePort(), env).start();
  t.after(() => Promise.all([a.stop(), b.stop()]));

  const d = doc();
  const ada = new Copresence(a.ws, { ...fast, user: 'ada' });
  t.after(() => ada.close());
  const doc1 = ada.join(d);
  await doc1.ready();
  const received = collect(doc1, 'broadcast');
  await b.broadcast(d, 0);
  await until(() => received.length === 1);

  await a.stop(); // graceful: ada gets 1001 and reconnects to the same address
  const missed = [];
  for (let i = 1; i <= 5; i++) missed.push(await b.broadcast(d, i));
  const members = collect(doc1, 'members');
  await a.start();
  await until(() => members.length === 1, { what: 're-joined', timeout: 20000 });
  assert.equal(members[0][1].resumed, true);
  assert.deepEqual(received.map((e) => e.data), [0, 1, 2, 3, 4, 5], 'each durable event once, in order');
  assert.deepEqual(received.slice(1).map((e) => e.offset), missed);

  await b.broadcast(d, 6);
  await until(() => received.length === 7);
});
