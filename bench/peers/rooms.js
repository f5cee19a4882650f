'use strict';
// The work every peer of the benchmark does, and no more: rooms of members with a state, and
// observers (sockets that get what the room is sent without being members: the peers' stand-in for
// Copresence's SSE observer). No registry, no log, no offsets, no limits: plain maps in one process.

class Rooms {
  constructor() {
    this.rooms = new Map(); // doc -> Map(memberId -> member)
    this.observers = new Map(); // doc -> Set(socket)
  }

  // Silent: nobody is told, and the observer gets no member list.
  observe(doc, socket) {
    let set = this.observers.get(doc);
    if (!set) {
      set = new Set();
      this.observers.set(doc, set);
    }
    set.add(socket);
  }

  unobserve(doc, socket) {
    const set = this.observers.get(doc);
    if (!set) return;
    set.delete(socket);
    if (set.size === 0) this.observers.delete(doc);
  }

  join(doc, member) {
    let room = this.rooms.get(doc);
    if (!room) {
      room = new Map();
      this.rooms.set(doc, room);
    }
    room.set(member.id, member);
    return [...room.values()];
  }

  leave(doc, id) {
    const room = this.rooms.get(doc);
    if (!room) return null;
    const m = room.get(id);
    room.delete(id);
    if (room.size === 0) this.rooms.delete(doc);
    return m || null;
  }

  get(doc, id) {
    const room = this.rooms.get(doc);
    return room ? room.get(id) : undefined;
  }
}

function mergeState(state, patch) {
  for (const [k, v] of Object.entries(patch || {})) {
    if (v === null) delete state[k];
    else state[k] = v;
  }
}

// Memory as the benchmark reads it: GET /stats (after a full GC when node runs with --expose-gc).
function stats() {
  if (global.gc) global.gc();
  return JSON.stringify(process.memoryUsage());
}

module.exports = { Rooms, mergeState, stats };
