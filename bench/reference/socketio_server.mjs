// Reference: Node.js + Socket.IO, the stack Connect's original API ran on.
// PORT=... node socketio_server.mjs  (loopback only; prints "listening <port>")
import { createServer } from "node:http";
import { Server } from "socket.io";
import { Matchmaker } from "./matchmaker.mjs";

const port = Number(process.env.PORT || 0);
const http = createServer((req, res) => {
  res.writeHead(req.url === "/health" ? 200 : 404, { "content-type": "text/plain" });
  res.end("ok");
});
const io = new Server(http, {
  transports: ["websocket"],
  serveClient: false,
  perMessageDeflate: false,
  httpCompression: false,
  cors: { origin: false },
});
const mm = new Matchmaker();

io.on("connection", (socket) => {
  const c = {
    send: (event, data) => socket.emit(event, data),
    partner: null,
    peerId: null,
    criteria: null,
    tag: "",
    queued: false,
  };
  // Token-less hello, so the client's "connected" means the same round trip as Connect's.
  socket.on("hello", () => socket.emit("welcome", { connectionId: socket.id, resumed: false }));
  socket.on("join-queue", (data) => mm.join(c, data));
  socket.on("leave-queue", () => mm.leave(c));
  socket.on("next", () => mm.next(c));
  socket.on("send-message", (data) => mm.relay(c, data));
  socket.on("typing", (data) => mm.typing(c, data));
  socket.on("send-offer", (data) => mm.forward(c, "offer", { offer: data && data.offer }));
  socket.on("send-candidate", (data) => mm.forward(c, "candidate", { candidate: data && data.candidate }));
  socket.on("disconnect", () => mm.disconnect(c));
});

http.listen(port, "127.0.0.1", () => {
  process.stdout.write(`listening ${http.address().port}\n`);
});
process.on("SIGTERM", () => process.exit(0));
