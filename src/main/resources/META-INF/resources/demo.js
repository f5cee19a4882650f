// The demo: a shared text area on copresence.js. Edits travel as broadcast, carets and selections
// as member state (coalesced per frame), "is typing" as typing.
import { Copresence } from './copresence.js';

const PEOPLE = ['Ada', 'Bob', 'Cleo', 'Dan', 'Eve', 'Finn'];
const COLORS = ['#e5484d', '#3e63dd', '#30a46c', '#f76b15', '#8e4ec6', '#0797b9', '#d6409f', '#ad7f58'];

const params = new URLSearchParams(location.search);
const name = params.get('name') || PEOPLE[Math.floor(Math.random() * PEOPLE.length)];
const userId = name.toLowerCase().replace(/[^a-z0-9._:-]/g, '') || 'guest';
const docId = params.get('doc') || 'notes';
const color = COLORS[[...userId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % COLORS.length];

const $ = (id) => document.getElementById(id);
const text = $('text');
const mirror = $('mirror');
document.title = `${name} · Copresence demo`;
$('doc-name').textContent = docId;
$('me').innerHTML = `${avatar(name, color)}<div class="who">${esc(name)}<small>${esc(userId)}</small></div>`;

const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
const cp = new Copresence(wsUrl, { user: userId, name });
const doc = cp.join(docId, { state: { color, sel: [0, 0] } });
window.copresence = { cp, doc }; // for the browser test and the curious

cp.on('state', (state) => {
  $('conn').dataset.state = state;
  $('conn').textContent = state;
});

// ---- text: last edit wins, sent whole (a demo, not a CRDT) ----
let version = 0;
text.addEventListener('input', () => {
  version++;
  doc.broadcast({ kind: 'text', text: text.value, version }).catch(() => {});
  doc.typing();
  sendSelection();
  render();
});
doc.on('broadcast', ({ data }) => {
  if (data?.kind !== 'text' || data.text === text.value) return;
  const [s, e] = [text.selectionStart, text.selectionEnd];
  const grew = data.text.length - text.value.length;
  const changedAt = firstDifference(text.value, data.text);
  text.value = data.text;
  // Keep this caret roughly in place when the change was before it.
  const shift = s > changedAt ? grew : 0;
  text.setSelectionRange(Math.max(0, s + shift), Math.max(0, e + shift));
  render();
});
// A newcomer gets the text from the longest-present member.
doc.on('join', () => {
  const members = [...doc.members.values()].sort((a, b) => a.joinedAt - b.joinedAt);
  if (members[0]?.id === doc.self && text.value) {
    doc.broadcast({ kind: 'text', text: text.value, version }).catch(() => {});
  }
});

// ---- carets and selections ----
function sendSelection() {
  doc.updateSoon({ sel: [text.selectionStart, text.selectionEnd] });
}
for (const ev of ['select', 'keyup', 'mouseup', 'focus']) text.addEventListener(ev, sendSelection);
document.addEventListener('selectionchange', () => {
  if (document.activeElement === text) sendSelection();
});
text.addEventListener('scroll', () => {
  mirror.scrollTop = text.scrollTop;
});

function render() {
  const value = text.value;
  const others = [...doc.members.values()].filter((m) => m.id !== doc.self && Array.isArray(m.state?.sel));
  // Cut points: every selection start and end, each marked with what opens and closes there.
  const cuts = new Set([0, value.length]);
  for (const m of others) m.state.sel.forEach((p) => cuts.add(Math.max(0, Math.min(value.length, p))));
  const points = [...cuts].sort((a, b) => a - b);
  let html = '';
  for (let i = 0; i < points.length; i++) {
    const at = points[i];
    for (const m of others) {
      const [, end] = clampSel(m.state.sel, value.length);
      if (end === at) html += caret(m, at);
    }
    if (i === points.length - 1) break;
    const next = points[i + 1];
    const chunk = esc(value.slice(at, next));
    const over = others.find((m) => {
      const [s, e] = clampSel(m.state.sel, value.length);
      return s !== e && Math.min(s, e) <= at && next <= Math.max(s, e);
    });
    html += over ? `<mark style="background:${over.state.color}33" data-user="${esc(over.user.id)}">${chunk}</mark>` : chunk;
  }
  mirror.innerHTML = html + '\n';
  mirror.scrollTop = text.scrollTop;
}

function clampSel(sel, n) {
  return [Math.max(0, Math.min(n, sel[0] | 0)), Math.max(0, Math.min(n, sel[1] | 0))];
}

function caret(m, at) {
  const label = esc(m.user.name || m.user.id);
  return `<span class="caret" data-user="${esc(m.user.id)}" data-pos="${at}" style="color:${m.state.color}"><span class="label" style="background:${m.state.color}">${label}</span></span>`;
}

// ---- members, typing, online ----
function renderMembers() {
  const list = [...doc.members.values()].sort((a, b) => a.joinedAt - b.joinedAt);
  $('members').innerHTML = list
    .map((m) => {
      const n = m.user.name || m.user.id;
      const you = m.id === doc.self ? ' <small>you</small>' : '';
      return `<li data-user="${esc(m.user.id)}">${avatar(n, m.state?.color || '#999')}<div class="who">${esc(n)}${you}</div></li>`;
    })
    .join('');
  renderTyping();
  render();
}

function renderTyping() {
  const typing = [...doc.members.values()].filter((m) => m.typing && m.id !== doc.self).map((m) => m.user.name || m.user.id);
  $('typing').textContent = typing.length === 0 ? '' : `${typing.join(', ')} ${typing.length === 1 ? 'is' : 'are'} typing…`;
}

for (const ev of ['members', 'join', 'leave', 'update']) doc.on(ev, renderMembers);
doc.on('typing', renderTyping);

const watched = [...new Set([userId, ...PEOPLE.map((p) => p.toLowerCase())])];
const online = new Map(watched.map((u) => [u, false]));
function renderOnline() {
  $('online').innerHTML = watched
    .map((u) => `<li data-user="${esc(u)}"><span class="dot${online.get(u) ? ' on' : ''}"></span><div class="who">${esc(u)}</div></li>`)
    .join('');
}
cp.on('status', ({ user, online: on }) => {
  online.set(user, on);
  renderOnline();
});
cp.watch(watched);
renderOnline();

// ---- helpers ----
function avatar(n, c) {
  return `<span class="avatar" style="background:${c}">${esc(n.slice(0, 1).toUpperCase())}</span>`;
}

function esc(s) {
  return String(s).replace(/[&<>"']/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch]);
}

function firstDifference(a, b) {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
