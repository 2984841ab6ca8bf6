import assert from "node:assert/strict";
import { PatternPermissions } from "../../lib/auth/permissions.ts";
import { ClientSession } from "../../lib/hub/client_session.ts";
import type { FlowOptions } from "../../lib/hub/flow_gate.ts";
import { toDelivery } from "../../lib/hub/delivery.ts";
import { createDrainContexts } from "../../lib/hub/drain_contexts.ts";
import type { ClientLevel } from "../../lib/protocol/subprotocol.ts";
import { MemorySocket } from "../_support/memory_socket.ts";

const KiB = 1024;
const FLOW: FlowOptions = {
  highWaterBytes: 1 << 20,
  lowWaterBytes: 256 * KiB,
  maxInflightBytes: 1 << 20,
  maxFrameBytes: 64 * KiB,
  maxLagMs: 3000,
};

/** A session on an in-memory socket with a fake clock; `clock.now` moves only when told. */
function session(level: ClientLevel, socket: MemorySocket, flow: Partial<FlowOptions> = {}) {
  const clock = { now: 1_000_000 };
  const contexts = createDrainContexts({
    chunkBytes: 64 * KiB,
    compressor: undefined,
    onFrame() {},
    onChunked() {},
  });
  const s = new ClientSession({
    id: "c1",
    remote: "test",
    socket,
    flow: { ...FLOW, ...flow },
    queue: { maxMessages: 1000, maxBytes: 8 << 20, now: () => clock.now },
    ctx: level === "plain" ? contexts.plain : contexts.json,
    permissions: PatternPermissions.open("test"),
    maxInboundRate: 0,
    level,
    now: () => clock.now,
  });
  return { s, clock };
}

let seq = 0;
function message(bytes: number, key?: string) {
  return toDelivery({ topic: "t", seq: ++seq, key, ts: 1_000_000, data: "x".repeat(bytes) });
}

Deno.test("ClientSession (plain, engine with ping) probes with WebSocket pings carrying byte offsets, never ping frames", () => {
  const socket = new MemorySocket({ ping: true });
  const { s } = session("plain", socket);
  assert.equal(s.progressKind, "wire-ping");
  for (let i = 0; i < 10; i++) s.queue.push(message(1000));
  s.drain();
  assert.equal(s.sentMessages, 10);
  assert.ok(socket.pings.length > 0, "pinged after a quarter of the window");
  assert.equal(socket.frames.filter((f) => f.type === "ping").length, 0);
  const offsets = socket.pingOffsets();
  assert.ok(offsets.every((o, i) => o > 0 && (i === 0 || o > offsets[i - 1])));
  assert.ok(offsets.at(-1)! <= s.stats(0).sent.bytes);
});

Deno.test("ClientSession (plain) stops writing at its read window and resumes when a pong confirms the bytes", () => {
  const socket = new MemorySocket({ ping: true });
  const { s, clock } = session("plain", socket);
  for (let i = 0; i < 100; i++) s.queue.push(message(1000));
  assert.equal(s.drain(), "blocked");
  const sent = s.sentMessages;
  assert.ok(sent > 0 && sent < 100, `${sent} sent within the 16 KiB initial window`);
  assert.ok(s.inflightBytes > 16 * KiB);
  clock.now += 2;
  assert.equal(s.onPong(socket.pingOffsets().at(-1)!, clock.now), true);
  assert.equal(s.drain(), "idle", "a pong within a round trip opens the whole window");
  assert.equal(s.sentMessages, 100);
  assert.equal(s.onPong(999_999_999, clock.now), false, "an offset never sent confirms nothing");
});

Deno.test("ClientSession.heartbeat closes a stalled reader as slow (4008) and a silent idle one as dead (4009)", () => {
  const stalledSocket = new MemorySocket({ ping: true });
  const stalled = session("plain", stalledSocket);
  for (let i = 0; i < 100; i++) stalled.s.queue.push(message(1000));
  stalled.s.drain();
  assert.equal(stalled.s.heartbeat(stalled.clock.now, 15_000, 10_000), "ok");
  stalled.clock.now += 10_001;
  assert.equal(stalled.s.heartbeat(stalled.clock.now, 15_000, 10_000), "slow");

  const idleSocket = new MemorySocket({ ping: true });
  const idle = session("plain", idleSocket);
  idle.s.queue.push(message(100));
  idle.s.drain();
  idle.clock.now += 15_000;
  assert.equal(idle.s.heartbeat(idle.clock.now, 15_000, 10_000), "ok");
  assert.equal(idleSocket.pings.length, 1, "an idle client is pinged every heartbeatMs");
  idle.clock.now += 10_001;
  assert.equal(idle.s.heartbeat(idle.clock.now, 15_000, 10_000), "dead");
});

Deno.test("ClientSession (plain) keeps a client that answers its pings, however long it is connected", () => {
  const socket = new MemorySocket({ ping: true });
  const { s, clock } = session("plain", socket);
  for (let minute = 0; minute < 10; minute++) {
    for (let i = 0; i < 60; i++) {
      s.queue.push(message(1000));
      s.drain();
      clock.now += 1000;
      assert.equal(s.heartbeat(clock.now, 15_000, 10_000), "ok");
      const last = socket.pingOffsets().at(-1);
      if (last !== undefined) s.onPong(last, clock.now + 1);
    }
  }
  assert.equal(s.sentMessages, 600);
});

Deno.test("ClientSession (plain) sends a large message whole; a protocol-aware one gets chunked frames", () => {
  const plainSocket = new MemorySocket({ ping: true });
  const plain = session("plain", plainSocket, { maxInflightBytes: 4 << 20 });
  const big = message(424_000);
  plain.s.onPong(0, plain.clock.now); // answered within a round trip: the whole window
  plain.s.queue.push(big);
  plain.s.drain();
  assert.equal(plainSocket.wire.length, 1, "one frame");
  assert.deepEqual(plainSocket.seqs("t"), [big.seq]);

  const awareSocket = new MemorySocket({ ping: true });
  const aware = session("protocol", awareSocket);
  assert.equal(aware.s.progressKind, "app-ping");
  aware.s.queue.push(big);
  aware.s.drain();
  assert.equal(awareSocket.frames[0].type, "chunked.start");
  assert.equal(awareSocket.pings.length, 0, "protocol-aware clients get ping {id} frames instead");
  assert.ok(awareSocket.frames.some((f) => f.type === "ping"));
});

Deno.test("ClientSession (plain, engine without ping) runs on bufferedAmount and closes a client whose backlog stops moving", () => {
  const socket = new MemorySocket();
  const { s, clock } = session("plain", socket, {
    highWaterBytes: 64 * KiB,
    lowWaterBytes: 16 * KiB,
  });
  assert.equal(s.progressKind, "buffered");
  for (let i = 0; i < 50; i++) s.queue.push(message(1000));
  assert.equal(s.drain(), "idle", "the kernel takes everything while bufferedAmount is 0");
  socket.bufferedAmount = 70 * KiB; // the kernel's buffers are full
  for (let i = 0; i < 50; i++) s.queue.push(message(1000));
  assert.equal(s.drain(), "blocked");
  assert.equal(s.heartbeat(clock.now, 15_000, 10_000), "ok");
  socket.bufferedAmount = 60 * KiB; // the client read a little
  clock.now += 6000;
  assert.equal(s.heartbeat(clock.now, 15_000, 10_000), "ok", "its backlog moved");
  clock.now += 10_001;
  assert.equal(s.heartbeat(clock.now, 15_000, 10_000), "slow", "then nothing for 10 s");
  assert.equal(socket.pings.length + socket.frames.filter((f) => f.type === "ping").length, 0);
});
