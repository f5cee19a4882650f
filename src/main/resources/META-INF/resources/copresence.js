// copresence.js: the browser (and Node) client of Copresence, wire protocol v1.
// An ES module with no dependencies. See docs/client.md for the API and its guarantees.

const OPEN = 1;

/** Close codes after which reconnecting as before cannot help (contract: Close codes). */
const FATAL = new Set([1008, 4403]);
const TOKEN_EXPIRED = 4401;

const DEFAULTS = {
  backoffInitial: 500, // ms: the first retry waits up to this
  backoffMax: 20000, // ms: the cap of the doubling
  stableAfter: 10000, // ms open before the backoff starts again from backoffInitial
  queueSize: 256, // messages kept while not connected; past it the oldest is dropped
  pingAfter: 10000, // ms with nothing received before an app-level ping
  pongTimeout: 5000, // ms after that ping before the connection counts as dead
  typingIdle: 3000, // ms after the last typing() before typing stops by itself
  typingRefresh: 2000, // ms between refreshes of typing:true (the server's TTL is 5 s)
  coalesce: 50, // ms between coalesced updates where there is no requestAnimationFrame
};

/** A tiny event emitter: on() returns a function that removes the listener. */
class Emitter {
  #listeners = new Map();

  on(event, fn) {
    if (!this.#listeners.has(event)) this.#listeners.set(event, new Set());
    this.#listeners.get(event).add(fn);
    return () => this.off(event, fn);
  }

  off(event, fn) {
    this.#listeners.get(event)?.delete(fn);
  }

  once(event, fn) {
    const off = this.on(event, (...args) => {
      off();
      fn(...args);
    });
    return off;
  }

  emit(event, ...args) {
    for (const fn of [...(this.#listeners.get(event) ?? [])]) {
      try {
        fn(...args);
      } catch (e) {
        // One listener's bug must not stop the others, nor the connection.
        setTimeout(() => {
          throw e;
        });
      }
    }
  }
}

/**
 * Full-jitter exponential backoff: attempt n waits a uniform random time in [0, min(max, initial·2^n)).
 * Exported for tests and for apps that want the same schedule elsewhere.
 */
export function backoffDelay(attempt, { initial = DEFAULTS.backoffInitial, max = DEFAULTS.backoffMax, random = Math.random } = {}) {
  const cap = Math.min(max, initial * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * cap);
}

function mergeState(state, partial) {
  const next = { ...state };
  for (const [k, v] of Object.entries(partial ?? {})) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return next;
}

/** One document joined through a {@link Copresence} connection. */
export class CopresenceDoc extends Emitter {
  #cp;
  #typing = { on: false, lastSent: 0, idleTimer: null };
  #coalesced = null;
  #coalesceScheduled = false;

  constructor(cp, id, state) {
    super();
    this.#cp = cp;
    this.id = id;
    /** This client's own state, as last merged (re-sent in full when re-joining). */
    this.state = { ...(state ?? {}) };
    /** The members by member id, self included. */
    this.members = new Map();
    /** This client's member id (a new one after each re-join). */
    this.self = null;
    /** The last offset seen: a re-join resumes after it. */
    this.offset = null;
    this.joined = false;
    this.left = false;
    this._readyWaiters = [];
  }

  /** Resolves once joined (at once when already joined). */
  ready() {
    if (this.joined) return Promise.resolve(this);
    return new Promise((resolve, reject) => this._readyWaiters.push({ resolve, reject }));
  }

  /** Shallow-merges into this member's state (a key set to null is removed). */
  update(partial) {
    this.state = mergeState(this.state, partial);
    // While disconnected the merged state travels with the re-join: nothing to queue.
    if (this.joined && this.#cp.connected) this.#cp._send({ type: 'update', doc: this.id, state: partial });
  }

  /**
   * Coalesced update for fast-changing state such as a cursor: at most one update per animation
   * frame (or per 50 ms outside browsers), carrying the merge of everything given since the last.
   */
  updateSoon(partial) {
    this.#coalesced = { ...(this.#coalesced ?? {}), ...partial };
    if (this.#coalesceScheduled) return;
    this.#coalesceScheduled = true;
    const flush = () => {
      this.#coalesceScheduled = false;
      const p = this.#coalesced;
      this.#coalesced = null;
      if (p && !this.left) this.update(p);
    };
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(flush);
    else setTimeout(flush, this.#cp.options.coalesce);
  }

  /** The cursor helper: {@link updateSoon} of {@code {cursor: position}}. */
  cursor(position) {
    this.updateSoon({ cursor: position });
  }

  /**
   * Call on every keystroke: sends typing:true (refreshed while typing goes on) and false by itself
   * after a pause. typing(false) stops at once.
   */
  typing(on = true) {
    const t = this.#typing;
    const o = this.#cp.options;
    clearTimeout(t.idleTimer);
    t.idleTimer = null;
    if (!on) {
      if (t.on) {
        t.on = false;
        this.#sendTyping(false);
      }
      return;
    }
    const now = Date.now();
    if (!t.on || now - t.lastSent >= o.typingRefresh) {
      t.on = true;
      t.lastSent = now;
      this.#sendTyping(true);
    }
    t.idleTimer = setTimeout(() => this.typing(false), o.typingIdle);
  }

  #sendTyping(on) {
    // Typing is a hint: not worth queueing while disconnected.
    if (this.joined && this.#cp.connected) this.#cp._send({ type: 'typing', doc: this.id, typing: on });
  }

  /** Sends data to every member (durable: replayed on resume). Resolves on the server's ack. */
  broadcast(data, { echo = false } = {}) {
    return this.#cp._request({ type: 'broadcast', doc: this.id, data, echo });
  }

  /** Sends data to one member only (e.g. WebRTC offer/answer/ICE). Resolves on the server's ack. */
  signal(to, data) {
    return this.#cp._request({ type: 'signal', doc: this.id, to, data });
  }

  /** Stops being a member. */
  leave() {
    if (this.left) return;
    this.left = true;
    clearTimeout(this.#typing.idleTimer);
    this.#cp._leave(this);
  }

  _onJoined(m) {
    const before = this.members;
    this.self = m.self;
    this.offset = m.offset;
    this.members = new Map(m.members.map((member) => [member.id, member]));
    const wasJoined = this.joined;
    this.joined = true;
    if (m.resumed === false || (wasJoined === false && before.size > 0)) {
      // Reconcile: what changed while away, as if it had been seen happening.
      for (const [id, member] of before) {
        if (!this.members.has(id)) this.emit('leave', member, 'timeout');
      }
      for (const [id, member] of this.members) {
        if (!before.has(id) && id !== m.self) this.emit('join', member);
      }
    }
    this.emit('members', [...this.members.values()], { resumed: m.resumed, self: m.self });
    const waiters = this._readyWaiters;
    this._readyWaiters = [];
    waiters.forEach((w) => w.resolve(this));
  }

  _onMessage(m) {
    if (m.offset) this.offset = m.offset;
    switch (m.type) {
      case 'presence':
        if (m.event === 'leave') {
          const gone = this.members.get(m.member.id) ?? m.member;
          this.members.delete(m.member.id);
          this.emit('leave', gone, m.reason);
        } else {
          this.members.set(m.member.id, m.member);
          this.emit(m.event, m.member);
        }
        break;
      case 'typing': {
        const member = this.members.get(m.member);
        if (member) this.members.set(m.member, { ...member, typing: m.typing });
        this.emit('typing', { member: m.member, user: m.user, typing: m.typing });
        break;
      }
      case 'broadcast':
        this.emit('broadcast', { from: m.from, data: m.data, offset: m.offset });
        break;
      case 'signal':
        this.emit('signal', { from: m.from, data: m.data });
        break;
      default:
        break;
    }
  }

  _onDisconnected() {
    this.joined = false;
  }
}

/**
 * One connection to a Copresence service, any number of documents. It reconnects by itself and
 * re-joins every document from its last offset.
 */
export class Copresence extends Emitter {
  #url;
  #ws = null;
  #docs = new Map();
  #watched = new Set();
  #queue = [];
  #pending = new Map();
  #joins = new Map();
  #nextId = 1;
  #attempt = 0;
  #timers = { reconnect: null, stable: null, ping: null, pong: null };
  #closedByUser = false;
  #lastReceived = 0;

  /**
   * @param url the WebSocket URL of the multiplexed endpoint, e.g. {@code wss://host/ws}
   * @param options {user, name, token, getToken, WebSocket, and the timings of DEFAULTS}
   */
  constructor(url, options = {}) {
    super();
    this.options = { ...DEFAULTS, ...options };
    this.#url = url;
    this.state = 'connecting';
    this.WebSocket = options.WebSocket ?? globalThis.WebSocket;
    if (!this.WebSocket) throw new Error('no WebSocket: pass {WebSocket} (e.g. the ws package in Node)');
    this.random = options.random ?? Math.random;
    this.#connect();
  }

  /** True while the socket is OPEN: the only time anything is sent. */
  get connected() {
    return this.#ws !== null && this.#ws.readyState === OPEN;
  }

  /** Messages waiting for the connection. */
  get queued() {
    return this.#queue.length;
  }

  /** Joins a document (or returns the handle already joined). */
  join(doc, { state } = {}) {
    let handle = this.#docs.get(doc);
    if (handle) return handle;
    handle = new CopresenceDoc(this, doc, state);
    this.#docs.set(doc, handle);
    if (this.connected) this.#sendJoin(handle);
    return handle;
  }

  /** Online status of these users: a 'status' event now for each, then on every change. */
  watch(users) {
    users.forEach((u) => this.#watched.add(u));
    if (this.connected) this._send({ type: 'watch', users });
  }

  unwatch(users) {
    users.forEach((u) => this.#watched.delete(u));
    if (this.connected) this._send({ type: 'unwatch', users });
  }

  /** Closes for good: no reconnection. */
  close() {
    this.#closedByUser = true;
    this.#clearTimers();
    const ws = this.#ws;
    this.#ws = null;
    if (ws) {
      this.#detach(ws);
      try {
        ws.close(1000);
      } catch {
        // already closing
      }
    }
    this.#failPending('closed');
    this.#setState('closed');
  }

  #setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.emit('state', state);
  }

  #connectUrl() {
    const u = new URL(this.#url);
    if (this.options.user) u.searchParams.set('user', this.options.user);
    if (this.options.name) u.searchParams.set('name', this.options.name);
    if (this.options.token) u.searchParams.set('access_token', this.options.token);
    return u.toString();
  }

  #connect() {
    if (this.#closedByUser) return;
    let ws;
    try {
      ws = new this.WebSocket(this.#connectUrl());
    } catch (e) {
      this.emit('error', { code: 'connect_failed', message: String(e) });
      this.#scheduleReconnect();
      return;
    }
    this.#ws = ws;
    ws.onopen = () => this.#onOpen(ws);
    ws.onmessage = (e) => this.#onMessage(ws, e.data);
    ws.onclose = (e) => this.#onClose(ws, e.code, e.reason);
    ws.onerror = () => {
      // The close event follows and says what to do.
    };
  }

  #detach(ws) {
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
  }

  #onOpen(ws) {
    if (ws !== this.#ws) return;
    this.#setState('open');
    this.#lastReceived = Date.now();
    this.#armPing();
    // Only a connection that stays up a while proves the network is back: then the backoff resets.
    this.#timers.stable = setTimeout(() => {
      this.#attempt = 0;
    }, this.options.stableAfter);
    for (const doc of this.#docs.values()) this.#sendJoin(doc);
    if (this.#watched.size) this._send({ type: 'watch', users: [...this.#watched] });
    const queued = this.#queue;
    this.#queue = [];
    for (const m of queued) this.#write(m);
  }

  #sendJoin(doc) {
    const m = { type: 'join', id: `j${this.#nextId++}`, doc: doc.id, state: doc.state };
    this.#joins.set(m.id, doc);
    if (doc.offset) m.since = doc.offset;
    if (this.options.user) m.user = { id: this.options.user, ...(this.options.name ? { name: this.options.name } : {}) };
    this.#write(m);
  }

  #onMessage(ws, data) {
    if (ws !== this.#ws) return;
    this.#lastReceived = Date.now();
    clearTimeout(this.#timers.pong);
    this.#timers.pong = null;
    let m;
    try {
      m = JSON.parse(typeof data === 'string' ? data : data.toString());
    } catch {
      return;
    }
    this.emit('message', m);
    if (m.type === 'joined') {
      this.#joins.delete(m.id);
      this.#docs.get(m.doc)?._onJoined(m);
      return;
    }
    if (m.type === 'status') {
      this.emit('status', { user: m.user, online: m.online, lastSeen: m.lastSeen });
      return;
    }
    if (m.type === 'ack' || (m.type === 'error' && m.id !== undefined && this.#pending.has(m.id))) {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      if (p) {
        if (m.type === 'ack') p.resolve(m);
        else p.reject(Object.assign(new Error(m.message), { code: m.code }));
      }
      return;
    }
    if (m.type === 'error') {
      const doc = this.#joins.get(m.id);
      if (doc) {
        // A refused join: the document handle fails its ready() and is dropped.
        this.#joins.delete(m.id);
        if (this.#docs.get(doc.id) === doc) {
          this.#docs.delete(doc.id);
          doc._readyWaiters.forEach((w) => w.reject(Object.assign(new Error(m.message), { code: m.code })));
        }
      }
      this.emit('error', m);
      return;
    }
    if (m.type === 'pong') return;
    if (m.doc) this.#docs.get(m.doc)?._onMessage(m);
  }

  #onClose(ws, code, reason) {
    if (ws !== this.#ws) return;
    this.#ws = null;
    this.#detach(ws);
    this.#clearTimers();
    for (const doc of this.#docs.values()) doc._onDisconnected();
    // Sent but not acknowledged: it may or may not have arrived, the app decides.
    this.#failPending('disconnected');
    this.emit('close', { code, reason });
    if (this.#closedByUser) return;
    if (FATAL.has(code) || (code === TOKEN_EXPIRED && !this.options.getToken)) {
      // Policy, forbidden or an expired token: the same attempt would fail the same way.
      this.emit('error', { code: code === TOKEN_EXPIRED ? 'unauthorized' : 'forbidden', message: `closed with ${code}: ${reason ?? ''}`, closeCode: code });
      this.#setState('closed');
      return;
    }
    if (code === TOKEN_EXPIRED) {
      Promise.resolve(this.options.getToken()).then((token) => {
        this.options.token = token;
        this.#scheduleReconnect();
      }, () => this.#setState('closed'));
      this.#setState('reconnecting');
      return;
    }
    this.#scheduleReconnect();
  }

  #scheduleReconnect() {
    this.#setState('reconnecting');
    const delay = backoffDelay(this.#attempt++, { initial: this.options.backoffInitial, max: this.options.backoffMax, random: this.random });
    this.emit('reconnect', { attempt: this.#attempt, delay });
    this.#timers.reconnect = setTimeout(() => {
      this.#timers.reconnect = null;
      this.#setState('connecting');
      this.#connect();
    }, delay);
  }

  /** Liveness: a ping after a quiet spell; no answer soon after means the connection is dead. */
  #armPing() {
    clearTimeout(this.#timers.ping);
    this.#timers.ping = setTimeout(() => {
      if (!this.connected) return;
      const quiet = Date.now() - this.#lastReceived;
      if (quiet >= this.options.pingAfter) {
        this.#write({ type: 'ping' });
        if (!this.#timers.pong) {
          this.#timers.pong = setTimeout(() => this.#dead(), this.options.pongTimeout);
        }
      }
      this.#armPing();
    }, Math.max(50, this.options.pingAfter - (Date.now() - this.#lastReceived)));
  }

  /** Gives up on a silent connection at once: its close event may take minutes on a dead network. */
  #dead() {
    const ws = this.#ws;
    if (!ws) return;
    try {
      ws.close(4000, 'no answer to ping');
    } catch {
      // ignore
    }
    this.#onClose(ws, 4000, 'no answer to ping');
  }

  #clearTimers() {
    for (const k of Object.keys(this.#timers)) {
      clearTimeout(this.#timers[k]);
      this.#timers[k] = null;
    }
  }

  #failPending(code) {
    for (const [id, p] of this.#pending) {
      if (p.sent) {
        this.#pending.delete(id);
        p.reject(Object.assign(new Error(`connection ${code} before the answer`), { code }));
      }
    }
  }

  /** Sends now when OPEN, else keeps it (bounded: the oldest goes first when full). */
  _send(m) {
    if (this.connected) {
      this.#write(m);
      return;
    }
    if (this.#closedByUser) return;
    this.#queue.push(m);
    while (this.#queue.length > this.options.queueSize) {
      const dropped = this.#queue.shift();
      const p = dropped.id !== undefined ? this.#pending.get(dropped.id) : null;
      if (p) {
        this.#pending.delete(dropped.id);
        p.reject(Object.assign(new Error('dropped: the send queue is full'), { code: 'queue_full' }));
      }
      this.emit('error', { code: 'queue_full', message: 'dropped the oldest queued message' });
    }
  }

  _request(m) {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      if (this.#closedByUser) {
        reject(Object.assign(new Error('closed'), { code: 'closed' }));
        return;
      }
      this.#pending.set(id, { resolve, reject, sent: false });
      this._send({ ...m, id });
    });
  }

  _leave(doc) {
    this.#docs.delete(doc.id);
    if (this.connected) this._send({ type: 'leave', doc: doc.id });
  }

  #write(m) {
    // Never on a socket that is not OPEN: callers check, this is the last guard.
    if (!this.connected) {
      this.#queue.push(m);
      return;
    }
    const p = m.id !== undefined ? this.#pending.get(m.id) : null;
    if (p) p.sent = true;
    this.#ws.send(JSON.stringify(m));
  }
}

export default Copresence;
