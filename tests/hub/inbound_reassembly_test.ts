import assert from "node:assert/strict";
import { MemoryBus } from "../../lib/bus/bus_memory.ts";
import { Hub } from "../../lib/hub/hub.ts";
import { InboundReassembly } from "../../lib/hub/inbound_reassembly.ts";
import { Logger } from "../../lib/log/logger.ts";
import { chunkText } from "../../lib/protocol/chunking.ts";
import { MemorySocket } from "../_support/memory_socket.ts";

const MiB = 1 << 20;

Deno.test("InboundReassembly gives each address a quarter of the budget, at least one message", () => {
  assert.equal(new InboundReassembly({ maxReassemblyBytes: 64 * MiB }).maxAddressBytes, 16 * MiB);
  assert.equal(
    new InboundReassembly({ maxMessageBytes: 4 * MiB, maxReassemblyBytes: 8 * MiB })
      .maxAddressBytes,
    4 * MiB,
  );
  assert.equal(new InboundReassembly({ maxAddressBytes: 123 }).maxAddressBytes, 123);
});

Deno.test("InboundReassembly: connections of one address cannot hold the whole budget; others still publish chunked", async () => {
  const hub = new Hub({
    bus: new MemoryBus(),
    logger: new Logger({ level: "silent" }),
    heartbeatMs: 60_000,
    maxMessageBytes: MiB,
    maxReassemblyBytes: 8 * MiB, // 2 MiB per address
  });
  const reader = new MemorySocket();
  hub.connect(reader, { remote: "reader", topics: ["t"], level: "protocol" });
  await new Promise((r) => setTimeout(r, 0)); // its subscription goes live
  // 16 connections from one address each open a 1 MiB message and never finish it.
  const attackers = Array.from({ length: 16 }, () => new MemorySocket());
  attackers.forEach((socket, i) => {
    const session = hub.connect(socket, {
      remote: `6.6.6.6:${1000 + i}`,
      address: "6.6.6.6",
      level: "protocol",
    });
    hub.receive(
      session,
      JSON.stringify({ type: "chunked.start", messageId: 1, totalChunks: 4, totalBytes: MiB }),
    );
  });
  hub.flush();
  const refused = attackers.filter((s) =>
    s.frames.some((f) => f.type === "error" && f.code === "limit_reached")
  );
  assert.equal(refused.length, 14, "two 1 MiB messages fit the 2 MiB share; the rest are refused");
  const error = refused[0].frames.find((f) => f.type === "error");
  assert.match(JSON.stringify(error), /per address/);
  assert.equal(hub.reassemblyBytes(), 2 * MiB);

  // An honest client from another address still sends a chunked publish.
  const honestSocket = new MemorySocket();
  const honest = hub.connect(honestSocket, {
    remote: "1.2.3.4:5",
    address: "1.2.3.4",
    level: "protocol",
  });
  const publish = JSON.stringify({ type: "publish", topic: "t", data: "x".repeat(50_000) });
  const chunks = chunkText(publish, 9, 16 * 1024);
  assert.ok(chunks.length > 4);
  for (const f of chunks) hub.receive(honest, f);
  await new Promise((r) => setTimeout(r, 0)); // the publish resolves
  hub.flush();
  assert.deepEqual(honestSocket.frames.filter((f) => f.type === "error"), []);
  const got = reader.frames.filter((f) => f.type === "message");
  assert.equal(got.length, 1, "the honest chunked publish reached the subscriber");
  assert.equal(hub.reassemblyBytes(), 2 * MiB, "the honest message's bytes were released");
  await hub.shutdown(0);
});
