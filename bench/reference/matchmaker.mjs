// The tiny subset of Connect's strangers core that the reference servers implement:
// join-queue -> queued | matched (pairing on the first interest, FIFO), next, relay of
// send-message to the partner as `message`, peer-ended on skip/disconnect.
// No tokens, no rate limits, no word filter, no resume: this is the floor a
// signaling relay of this shape costs in Node, not a second Connect.
import { randomUUID } from "node:crypto";

export class Matchmaker {
  constructor() {
    this.waiting = new Map(); // tag -> Set of clients, insertion order = waiting order
    this.sessions = 0;
  }

  // client: { send(event, data), partner, peerId, criteria, tag, queued }
  join(c, data) {
    if (c.partner) return c.send("error", { code: "already_in_session", message: "in a session" });
    if (c.queued) return c.send("error", { code: "already_queued", message: "already queued" });
    c.criteria = data || {};
    const interests = Array.isArray(c.criteria.interests) ? c.criteria.interests : [];
    const tag = interests.length ? String(interests[0]) : "";
    const set = this.waiting.get(tag);
    if (set && set.size) {
      const other = set.values().next().value;
      set.delete(other);
      if (!set.size) this.waiting.delete(tag);
      other.queued = false;
      this.pair(other, c, tag);
      return;
    }
    if (set) set.add(c);
    else this.waiting.set(tag, new Set([c]));
    c.queued = true;
    c.tag = tag;
    c.send("queued", { since: Date.now() });
  }

  pair(a, b, tag) {
    const sessionId = "s" + ++this.sessions;
    a.partner = b;
    b.partner = a;
    a.peerId = randomUUID();
    b.peerId = randomUUID();
    const mode = a.criteria.mode || "text";
    const common = tag ? [tag] : [];
    a.send("matched", { sessionId, peerId: b.peerId, initiator: true, mode, commonInterests: common });
    b.send("matched", { sessionId, peerId: a.peerId, initiator: false, mode, commonInterests: common });
  }

  leave(c) {
    if (!c.queued) return;
    const set = this.waiting.get(c.tag);
    if (set) {
      set.delete(c);
      if (!set.size) this.waiting.delete(c.tag);
    }
    c.queued = false;
  }

  end(c, reason) {
    const p = c.partner;
    if (!p) return;
    c.partner = null;
    p.partner = null;
    p.send("peer-ended", { reason });
  }

  next(c) {
    this.end(c, "skipped");
    if (c.criteria && !c.queued) this.join(c, c.criteria);
  }

  relay(c, data) {
    const p = c.partner;
    if (!p) return c.send("error", { code: "not_in_session", message: "not in a session" });
    const text = data && typeof data.text === "string" ? data.text : "";
    p.send("message", { from: c.peerId, text, ts: Date.now() });
  }

  // send-offer / send-candidate: forwarded as offer / candidate, like Connect's relay.
  forward(c, event, data) {
    const p = c.partner;
    if (!p) return c.send("error", { code: "not_in_session", message: "not in a session" });
    p.send(event, { from: c.peerId, ...(data && typeof data === "object" ? data : {}) });
  }

  typing(c, data) {
    const p = c.partner;
    if (!p) return c.send("error", { code: "not_in_session", message: "not in a session" });
    p.send("typing", { from: c.peerId, active: !!(data && data.active) });
  }

  disconnect(c) {
    this.leave(c);
    this.end(c, "disconnected");
  }
}
