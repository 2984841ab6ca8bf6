// A bounded Node + ws broadcast server: the peer the memory and fan-out benchmarks compare
// Floodgate with. Same routes (POST /publish, GET /ws?topics=, GET /healthz), one JSON text
// frame per message, and a socket holding more than 1 MiB unsent is skipped (its messages are
// lost: no queue, no gaps). Keyed state is kept and sent as a snapshot on subscribe.
//   node bench/peers/node_ws_peer.mjs --port 9000
import http from "node:http";
import { WebSocketServer } from "ws";

const port = Number(process.argv[process.argv.indexOf("--port") + 1] || 9000);
const topics = new Map(); // topic → { seq, subs: Set<ws>, state: Map<key, data> }
const topic = (name) => {
  if (!topics.has(name)) topics.set(name, { seq: 0, subs: new Set(), state: new Map() });
  return topics.get(name);
};
const server = http.createServer((req, res) => {
  if (req.method === "GET" && req.url === "/healthz") return res.end('{"status":"ok"}');
  if (req.method !== "POST" || req.url !== "/publish") return res.writeHead(404).end();
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    let last = 0;
    for (const m of Array.isArray(body) ? body : [body]) {
      const t = topic(m.topic);
      last = ++t.seq;
      if (m.key !== undefined) t.state.set(m.key, m.data);
      const frame = JSON.stringify({
        type: "message",
        topic: m.topic,
        seq: last,
        key: m.key,
        ts: Date.now(),
        data: m.data,
      });
      for (const ws of t.subs) if (ws.bufferedAmount <= 1 << 20) ws.send(frame);
    }
    res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ seq: last }));
  });
});
const wss = new WebSocketServer({ server, path: "/ws" });
wss.on("connection", (ws, req) => {
  const names = (new URL(req.url, "http://x").searchParams.get("topics") || "").split(",").filter(
    Boolean,
  );
  for (const name of names) {
    const t = topic(name);
    t.subs.add(ws);
    if (t.state.size > 0) {
      ws.send(
        JSON.stringify({
          type: "snapshot",
          topic: name,
          seq: t.seq,
          state: Object.fromEntries(t.state),
        }),
      );
    }
  }
  ws.on("close", () => {
    for (const name of names) topic(name).subs.delete(ws);
  });
  ws.on("error", () => {});
});
server.listen(port, "127.0.0.1", () => console.log(JSON.stringify({ listening: port })));
