// The load client of bench/load.py: one Node process drives one share of a scenario
// against one target, speaking to the orchestrator by JSON lines.
//
//   node client.mjs '<json config>'
//
// Targets: "connect" (ws + guest token + Connect frames), "floor" (ws, Connect
// frames, no token), "socketio" (socket.io-client, websocket transport only).
// Protocol with the orchestrator: the client prints {"type":"ready"} once set up,
// waits for a "go" line on stdin, runs, prints {"type":"result",...} (pingpong and
// relay-rate also {"type":"window-end"} the moment the measured window closes).
// The connect scenario then waits for "close". Every wait has a deadline; loopback only.
import { createInterface } from "node:readline";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { io } from "socket.io-client";

const cfg = JSON.parse(process.argv[2] || "{}");
const TARGET = cfg.target;
const SETUP_TIMEOUT_MS = (cfg.setupTimeoutS ?? 120) * 1000;
const OPEN_TIMEOUT_MS = 15000;
const CONCURRENCY = cfg.concurrency ?? 200;
const now = () => performance.now();
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

if (!["connect", "floor", "pyfloor", "socketio"].includes(TARGET)) {
  out({ type: "fatal", error: `unknown target ${TARGET}` });
  process.exit(2);
}
// Optional (relay-rate, pingpong): several nodes of one cluster, [{url, http}, ...].
// Pair p's first visitor opens on nodes[p % k] and its partner on nodes[(p + 1) % k],
// so with k > 1 every pair spans two nodes (bench/cluster.py). Without it, cfg.url.
const NODES = cfg.nodes && cfg.nodes.length ? cfg.nodes : null;
const LOOPBACK = /^(ws|http):\/\/127\.0\.0\.1:\d+/;
if (![cfg.url, ...(NODES || []).flatMap((n) => [n.url, n.http])].every((u) => LOOPBACK.test(u || ""))) {
  out({ type: "fatal", error: "loopback URLs only" });
  process.exit(2);
}
// Where visitor i (of a scenario's numbering: 2p and 2p + 1 are pair p) connects.
function endpoint(i) {
  if (!NODES) return { url: cfg.url, http: cfg.http };
  return NODES[((i >> 1) + (i & 1)) % NODES.length];
}

// --- stdin commands -----------------------------------------------------------
const lines = [];
let lineWaiter = null;
createInterface({ input: process.stdin }).on("line", (l) => {
  lines.push(l.trim());
  if (lineWaiter) lineWaiter();
});
async function command(name, timeoutMs = 600000) {
  const deadline = now() + timeoutMs;
  for (;;) {
    const i = lines.indexOf(name);
    if (i >= 0) {
      lines.splice(i, 1);
      return;
    }
    if (now() > deadline) throw new Error(`no "${name}" from the orchestrator`);
    await new Promise((r) => {
      lineWaiter = r;
      setTimeout(r, 1000);
    });
  }
}

// --- helpers ------------------------------------------------------------------
async function pool(count, limit, fn) {
  const results = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return results;
}

async function waitFor(pred, timeoutMs, what) {
  const deadline = now() + timeoutMs;
  while (!pred()) {
    if (now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function percentiles(samples) {
  if (!samples.length) return { p50: null, p99: null, p999: null, max: null, mean: null };
  const s = Float64Array.from(samples).sort();
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  let sum = 0;
  for (const v of s) sum += v;
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: s[s.length - 1], mean: sum / s.length };
}

let deviceSeq = 0;
const devicePrefix = `bench${process.pid}x${Math.floor(Math.random() * 1e6)}`;
async function guestToken(http = cfg.http) {
  const deviceId = `${devicePrefix}_${++deviceSeq}`;
  let why = "rate limited";
  for (let attempt = 0; attempt < 5; attempt++) {
    let r;
    try {
      r = await fetch(`${http}/api/auth/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ deviceId }),
      });
    } catch (err) {
      // a network error ("fetch failed", seen once on a loaded machine while 2,000
      // visitors fetched tokens from a cluster): asked again, within the five attempts
      why = String((err && err.cause && err.cause.code) || err);
      await sleep(200);
      continue;
    }
    if (r.ok) return (await r.json()).token;
    if (r.status !== 429) throw new Error(`token: HTTP ${r.status}`);
    await sleep(200);
  }
  throw new Error(`token: ${why}`);
}

async function tokens(n) {
  if (TARGET !== "connect") return new Array(n).fill(null);
  return pool(n, 32, (i) => guestToken(endpoint(i).http));
}

// --- one connection, the same surface for every target --------------------------
class Conn {
  constructor() {
    this.handlers = Object.create(null);
    this.closed = false;
    this.errors = 0;
    this.errorCodes = Object.create(null);
    this.onError = null;
  }

  on(event, fn) {
    this.handlers[event] = fn;
  }

  dispatch(event, data) {
    if (event === "error" || event === "rate-limited") {
      this.errors++;
      const code = (data && (data.code || data.event)) || event;
      this.errorCodes[code] = (this.errorCodes[code] || 0) + 1;
      if (this.onError) this.onError(code);
      return;
    }
    const h = this.handlers[event];
    if (h) h(data);
  }

  static open(token, url = cfg.url) {
    const c = new Conn();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        c.close();
        reject(new Error("open timeout"));
      }, OPEN_TIMEOUT_MS);
      c.handlers.welcome = () => {
        clearTimeout(timer);
        delete c.handlers.welcome;
        resolve(c);
      };
      const fail = (err) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      };
      if (TARGET === "socketio") {
        const s = io(url, {
          transports: ["websocket"],
          reconnection: false,
          forceNew: true,
          timeout: OPEN_TIMEOUT_MS,
        });
        c.sio = s;
        s.on("connect", () => s.emit("hello", {}));
        s.on("connect_error", fail);
        s.onAny((event, data) => c.dispatch(event, data));
        s.on("disconnect", () => {
          c.closed = true;
          if (c.handlers.close) c.handlers.close();
        });
      } else {
        const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: OPEN_TIMEOUT_MS });
        c.ws = ws;
        ws.on("open", () => ws.send(JSON.stringify({ event: "hello", data: token ? { token } : {} })));
        ws.on("message", (raw) => {
          const frame = JSON.parse(raw);
          if (frame.event) c.dispatch(frame.event, frame.data);
          else if (frame.ack !== undefined && frame.ok === false) c.dispatch("error", frame.error);
        });
        ws.on("error", fail);
        ws.on("close", () => {
          c.closed = true;
          if (c.handlers.close) c.handlers.close();
        });
      }
    });
  }

  emit(event, data) {
    if (this.closed) return;
    if (this.sio) this.sio.emit(event, data);
    else if (this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ event, data }));
  }

  close() {
    if (this.closed) return;
    this.closed = true;
    if (this.sio) this.sio.disconnect();
    else if (this.ws) this.ws.close(1000); // a normal close ends a Connect session at once
  }
}

async function openMany(n, toks) {
  let failures = 0;
  const conns = await pool(n, CONCURRENCY, (i) =>
    Conn.open(toks[i], endpoint(i).url).catch(() => {
      failures++;
      return null;
    }),
  );
  return { conns, failures };
}

function countErrors(conns) {
  let errors = 0;
  const codes = {};
  for (const c of conns) {
    if (!c) continue;
    errors += c.errors;
    for (const [k, v] of Object.entries(c.errorCodes)) codes[k] = (codes[k] || 0) + v;
  }
  return { errors, errorCodes: codes };
}

// Open 2*pairs connections and pair them: visitors 2i and 2i+1 share a unique interest.
async function matchedPairs(pairs, mode = "text") {
  const n = pairs * 2;
  const toks = await tokens(n);
  const { conns, failures } = await openMany(n, toks);
  if (failures) throw new Error(`${failures} connections failed to open`);
  let matched = 0;
  for (const c of conns) c.on("matched", () => matched++);
  const tag = `${cfg.tagPrefix || "t"}${process.pid}`;
  for (let i = 0; i < n; i += 2) {
    conns[i].emit("join-queue", { mode, interests: [`${tag}p${i >> 1}`] });
  }
  await sleep(20); // the first of each pair is queued before its partner arrives
  for (let i = 1; i < n; i += 2) {
    conns[i].emit("join-queue", { mode, interests: [`${tag}p${i >> 1}`] });
  }
  await waitFor(() => matched === n, SETUP_TIMEOUT_MS, `${n - matched} of ${n} visitors to be matched`);
  for (const c of conns) delete c.handlers.matched;
  return conns;
}

// --- scenarios ------------------------------------------------------------------
async function scenarioConnect() {
  const n = cfg.n;
  const toks = await tokens(n);
  out({ type: "ready" });
  await command("go");
  const t0 = now();
  const { conns, failures } = await openMany(n, toks);
  const ms = now() - t0;
  const { errors, errorCodes } = countErrors(conns);
  out({
    type: "result",
    connections: n,
    connected: n - failures,
    failures,
    connectAllMs: ms,
    connectsPerS: ((n - failures) / ms) * 1000,
    errors,
    errorCodes,
  });
  await command("close");
  for (const c of conns) if (c) c.close();
  await sleep(300);
}

async function scenarioBurst() {
  const n = cfg.n - (cfg.n % 2);
  const toks = await tokens(n);
  const { conns, failures } = await openMany(n, toks);
  if (failures) throw new Error(`${failures} connections failed to open`);
  let matched = 0;
  const lat = [];
  let t0 = 0;
  let last = 0;
  for (const c of conns) {
    c.on("matched", () => {
      matched++;
      last = now();
      lat.push(last - t0);
    });
  }
  out({ type: "ready" });
  await command("go");
  const tag = `${cfg.tagPrefix || "b"}${process.pid}`;
  t0 = now();
  for (let i = 0; i < n; i++) conns[i].emit("join-queue", { mode: "text", interests: [`${tag}p${i >> 1}`] });
  let timedOut = false;
  try {
    await waitFor(() => matched >= n, (cfg.duration ?? 30) * 1000, "every visitor to be matched");
  } catch {
    timedOut = true;
  }
  const ms = (matched ? last : now()) - t0;
  const { errors, errorCodes } = countErrors(conns);
  const p = percentiles(lat);
  out({
    type: "result",
    visitors: n,
    matched,
    pairs: n / 2,
    allMatchedMs: ms,
    pairsPerS: (matched / 2 / ms) * 1000,
    matchLatencyP50Ms: p.p50,
    matchLatencyP99Ms: p.p99,
    timedOut,
    errors,
    errorCodes,
  });
  for (const c of conns) c.close();
  await sleep(300);
}

async function scenarioRelayRate() {
  const pairs = cfg.pairs;
  const conns = await matchedPairs(pairs);
  const lat = new Float64Array(Math.ceil(cfg.rate * cfg.duration * 1.1) + 16);
  let received = 0;
  let bad = 0;
  for (const c of conns) {
    c.on("message", (d) => {
      const sent = Number(d && d.text);
      if (!Number.isFinite(sent)) {
        bad++;
        return;
      }
      if (received < lat.length) lat[received] = now() - sent;
      received++;
    });
  }
  out({ type: "ready" });
  await command("go");
  const t0 = now();
  const end = t0 + cfg.duration * 1000;
  let sent = 0;
  let k = 0;
  const total = conns.length;
  await new Promise((resolve) => {
    const tick = () => {
      const t = now();
      const due = Math.min(Math.floor(((Math.min(t, end) - t0) / 1000) * cfg.rate), lat.length - 16);
      while (sent < due) {
        // round-robin over pairs, alternating direction each lap
        const pair = k % pairs;
        const lap = Math.floor(k / pairs);
        const from = conns[2 * pair + (lap & 1)];
        from.emit("send-message", { text: String(now()) });
        sent++;
        k++;
      }
      if (t >= end) resolve();
      else setTimeout(tick, 1);
    };
    tick();
  });
  out({ type: "window-end", sent });
  try {
    await waitFor(() => received >= sent, 5000, "the last messages");
  } catch {
    /* reported as lost */
  }
  const p = percentiles(lat.subarray(0, Math.min(received, lat.length)));
  const { errors, errorCodes } = countErrors(conns);
  out({
    type: "result",
    pairs,
    rate: cfg.rate,
    durationS: cfg.duration,
    sent,
    received,
    lost: sent - received,
    bad,
    achievedRate: (sent / cfg.duration),
    latencyMs: p,
    errors,
    errorCodes,
  });
  for (const c of conns) c.close();
  await sleep(300);
}

// Realistic payloads (issue 19): chat lines of 20-300 characters, 3-5 KB SDP offers and
// ICE candidates, generated from a fixed seed so every target relays the same bytes.
function seeded(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}
const CHAT_WORDS = (
  "hi hello hey there how are you doing today good fine thanks and what about " +
  "from where I am in Berlin Paris Madrid do like music movies books games travel " +
  "really cool nice haha lol yes no maybe not sure what kind of work study student " +
  "weekend coffee tea summer winter beach mountains cat dog play guitar piano, ok! ?"
).split(" ");
function chatLine(rand) {
  const len = 20 + Math.floor(rand() * 281);
  let s = "";
  while (s.length < len) s += CHAT_WORDS[Math.floor(rand() * CHAT_WORDS.length)] + " ";
  return s.slice(0, len).trimEnd().padEnd(len, ".");
}
function sdpOffer(rand) {
  const size = 3072 + Math.floor(rand() * 2049);
  const lines = ["v=0", "o=- 4611731400430051336 2 IN IP4 127.0.0.1", "s=-", "t=0 0",
    "a=group:BUNDLE 0 1", "a=extmap-allow-mixed", "a=msid-semantic: WMS stream"];
  const codecs = ["opus/48000/2", "VP8/90000", "VP9/90000", "H264/90000", "AV1/90000", "red/90000"];
  let i = 0;
  while (lines.join("\r\n").length < size) {
    const pt = 96 + (i % 30);
    lines.push(`a=rtpmap:${pt} ${codecs[i % codecs.length]}`);
    lines.push(`a=rtcp-fb:${pt} nack pli`);
    lines.push(`a=fmtp:${pt} level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f`);
    lines.push(`a=ssrc:${1000000 + Math.floor(rand() * 1e9)} cname:${Math.floor(rand() * 1e12).toString(36)}`);
    i++;
  }
  return { type: "offer", sdp: lines.join("\r\n").slice(0, size) + "\r\n" };
}
function iceCandidate(rand) {
  const port = 49152 + Math.floor(rand() * 16000);
  const prio = 2113937151 - Math.floor(rand() * 1000);
  return {
    candidate: `candidate:${Math.floor(rand() * 4e9)} 1 udp ${prio} 127.0.0.1 ${port} typ host generation 0 ufrag ${Math.floor(rand() * 1e9).toString(36)} network-id 1`,
    sdpMid: "0",
    sdpMLineIndex: 0,
  };
}

async function scenarioPingpong() {
  const pairs = cfg.pairs;
  const window = cfg.window ?? 1;
  const conns = await matchedPairs(pairs, cfg.relay === "signal" ? "video" : "text");
  let running = false;
  let received = 0;
  let windowReceived = 0;
  // relay "message" (send-message: Connect's chat path, rate rule, word filter, transcript),
  // "long" (the same with chat lines of 20-300 characters), "typing" (the bare relay path,
  // no per-event rule) or "signal" (send-offer with a 3-5 KB SDP answered by send-candidate
  // with an ICE candidate, and so on: half of the relayed frames are each)
  const kind = cfg.relay ?? "message";
  const typing = kind === "typing";
  const bump = () => {
    received++;
    if (running) windowReceived++;
    return running;
  };
  if (kind === "signal") {
    for (let i = 0; i < conns.length; i++) {
      const self = conns[i];
      const rand = seeded(1000 + i);
      const offer = sdpOffer(rand);
      const cand = iceCandidate(rand);
      self.on("offer", () => bump() && self.emit("send-candidate", { candidate: cand }));
      self.on("candidate", () => bump() && self.emit("send-offer", { offer }));
    }
  } else {
    const [sendEvent, recvEvent] = typing ? ["typing", "typing"] : ["send-message", "message"];
    for (let i = 0; i < conns.length; i++) {
      const self = conns[i];
      self.on(recvEvent, (d) => {
        if (bump()) self.emit(sendEvent, typing ? { active: !d.active } : { text: d.text });
      });
    }
  }
  const first = (i) => {
    const rand = seeded(1000 + i);
    if (kind === "signal") return ["send-offer", { offer: sdpOffer(rand) }];
    if (typing) return ["typing", { active: true }];
    return ["send-message", { text: kind === "long" ? chatLine(rand) : "ping" }];
  };
  const sendEvent = kind === "signal" ? "send-offer/send-candidate" : first(0)[0];
  out({ type: "ready" });
  await command("go");
  running = true;
  const t0 = now();
  for (let i = 0; i < conns.length; i += 2) {
    for (let w = 0; w < window; w++) conns[i].emit(...first(i));
  }
  await sleep(cfg.duration * 1000);
  running = false;
  const elapsed = now() - t0;
  const inWindow = windowReceived;
  out({ type: "window-end", received: inWindow });
  await sleep(500);
  const { errors, errorCodes } = countErrors(conns);
  out({
    type: "result",
    pairs,
    window,
    relay: sendEvent,
    durationS: elapsed / 1000,
    messages: inWindow,
    msgsPerS: (inWindow / elapsed) * 1000,
    errors,
    errorCodes,
  });
  for (const c of conns) c.close();
  await sleep(300);
}

async function scenarioChurn() {
  const visitors = cfg.n;
  const stats = {
    opens: 0, openFailures: 0, matches: 0, nexts: 0, disconnects: 0,
    messagesSent: 0, messagesReceived: 0, peerEnded: 0, unexpectedCloses: 0,
  };
  const errorCodes = {};
  const openErrors = {};
  // seconds a matched visitor stays before chatting and moving on (think time)
  const [dwellMin, dwellMax] = cfg.dwellMs || [20, 200];
  const stoppers = new Set();
  let errors = 0;
  let running = true;
  const live = new Set();
  const rnd = (a, b) => a + Math.random() * (b - a);
  const criteria = { mode: "text" };

  async function visitor() {
    while (running) {
      let c;
      try {
        c = await Conn.open(TARGET === "connect" ? await guestToken() : null);
      } catch (err) {
        stats.openFailures++;
        const why = String((err && err.message) || err).slice(0, 60);
        openErrors[why] = (openErrors[why] || 0) + 1;
        await sleep(100);
        continue;
      }
      stats.opens++;
      live.add(c);
      let leaving = false;
      let stop = null;
      // the think-time timer of the current session: a peer-ended cancels it, so a
      // visitor never acts on a session that is already over (it would `next` the
      // following one at once and double the churn the scenario asks for)
      let dwell = null;
      await new Promise((resolve) => {
        c.onError = (code) => {
          errors++;
          errorCodes[code] = (errorCodes[code] || 0) + 1;
        };
        c.on("close", () => {
          if (!leaving && running) stats.unexpectedCloses++;
          resolve();
        });
        c.on("message", () => stats.messagesReceived++);
        c.on("peer-ended", () => {
          stats.peerEnded++;
          clearTimeout(dwell);
          dwell = null;
          setTimeout(() => running && !leaving && c.emit("join-queue", criteria), rnd(0, 20));
        });
        c.on("matched", () => {
          stats.matches++;
          clearTimeout(dwell);
          dwell = setTimeout(() => {
            dwell = null;
            if (!running || leaving || c.closed) return;
            const r = Math.random();
            if (r < 0.6) {
              c.emit("send-message", { text: "hello there" });
              stats.messagesSent++;
            }
            if (r < 0.75) {
              c.emit("next", {});
              stats.nexts++;
            } else {
              leaving = true;
              stats.disconnects++;
              c.close();
              resolve();
            }
          }, rnd(dwellMin, dwellMax));
        });
        c.emit("join-queue", criteria);
        // bounded: the run's deadline ends every visitor
        stop = () => {
          leaving = true;
          clearTimeout(dwell);
          c.close();
          resolve();
        };
        stoppers.add(stop);
        if (!running) stop();
      });
      stoppers.delete(stop);
      live.delete(c);
      await sleep(rnd(0, 50));
    }
  }

  out({ type: "ready" });
  await command("go");
  const t0 = now();
  // arrivals spread over rampMs (a soak's warm-up) instead of all at once
  const ramp = cfg.rampMs || 0;
  const all = Array.from({ length: visitors }, (_, i) =>
    sleep((ramp * i) / visitors).then(visitor),
  );
  await sleep(cfg.duration * 1000);
  running = false;
  for (const stop of [...stoppers]) stop();
  await Promise.race([Promise.all(all), sleep(5000)]);
  out({
    type: "result",
    visitors,
    durationS: (now() - t0) / 1000,
    ...stats,
    matchesPerS: stats.matches / cfg.duration,
    stillOpen: [...live].filter((c) => !c.closed).length,
    errors,
    errorCodes,
    openErrors,
  });
  await sleep(300);
}

const scenarios = {
  connect: scenarioConnect,
  burst: scenarioBurst,
  "relay-rate": scenarioRelayRate,
  pingpong: scenarioPingpong,
  "pingpong-typing": () => scenarioPingpong((cfg.relay = "typing")),
  "pingpong-long": () => scenarioPingpong((cfg.relay = "long")),
  "pingpong-signal": () => scenarioPingpong((cfg.relay = "signal")),
  churn: scenarioChurn,
};

const run = scenarios[cfg.scenario];
if (!run) {
  out({ type: "fatal", error: `unknown scenario ${cfg.scenario}` });
  process.exit(2);
}
const hardStop = setTimeout(() => {
  out({ type: "fatal", error: "hard time limit reached" });
  process.exit(3);
}, (cfg.hardLimitS ?? 900) * 1000);
hardStop.unref();
run()
  .then(() => process.exit(0))
  .catch((err) => {
    out({ type: "fatal", error: String((err && err.stack) || err) });
    process.exit(1);
  });
