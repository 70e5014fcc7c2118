// Floor: a bare `ws` WebSocket relay speaking Connect's own frame format
// ({"event","data"} JSON text frames), with the same tiny pairing subset as the
// Socket.IO reference. It is what a JSON relay costs in Node with nothing else.
// PORT=... node floor_server.mjs  (loopback only; prints "listening <port>")
import { createServer } from "node:http";
import { WebSocketServer } from "ws";
import { Matchmaker } from "./matchmaker.mjs";

const port = Number(process.env.PORT || 0);
const http = createServer((req, res) => {
  res.writeHead(req.url === "/health" ? 200 : 404, { "content-type": "text/plain" });
  res.end("ok");
});
const wss = new WebSocketServer({ server: http, path: "/ws", perMessageDeflate: false });
const mm = new Matchmaker();
let ids = 0;

wss.on("connection", (ws) => {
  const c = {
    send: (event, data) => ws.send(JSON.stringify({ event, data })),
    partner: null,
    peerId: null,
    criteria: null,
    tag: "",
    queued: false,
  };
  const id = "c" + ++ids;
  ws.on("message", (raw, isBinary) => {
    if (isBinary) return;
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch {
      return c.send("error", { code: "invalid_frame", message: "not JSON" });
    }
    switch (frame && frame.event) {
      case "hello":
        return c.send("welcome", { connectionId: id, resumed: false });
      case "join-queue":
        return mm.join(c, frame.data);
      case "leave-queue":
        return mm.leave(c);
      case "next":
        return mm.next(c);
      case "send-message":
        return mm.relay(c, frame.data);
      case "typing":
        return mm.typing(c, frame.data);
      case "send-offer":
        return mm.forward(c, "offer", { offer: frame.data && frame.data.offer });
      case "send-candidate":
        return mm.forward(c, "candidate", { candidate: frame.data && frame.data.candidate });
      case "ping":
        return c.send("pong", {});
      default:
        return c.send("error", { code: "unknown_event", message: "unknown event" });
    }
  });
  ws.on("close", () => mm.disconnect(c));
  ws.on("error", () => {});
});

http.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening ${http.address().port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
