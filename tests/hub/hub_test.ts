import assert from "node:assert/strict";
import { MemoryBus } from "../../lib/bus/bus_memory.ts";
import { Hub } from "../../lib/hub/hub.ts";
import { Logger } from "../../lib/log/logger.ts";
import { MemorySocket } from "../_support/memory_socket.ts";

const gc = (globalThis as { gc?: () => void }).gc;
type Session = ReturnType<Hub["connect"]>;

function connectMany(hub: Hub, n: number): WeakRef<Session>[] {
  const refs: WeakRef<Session>[] = [];
  for (let i = 0; i < n; i++) {
    const session = hub.connect(new MemorySocket(), { remote: "test", topics: ["a", "b"] });
    hub.receive(session, '{"type":"nope"}');
    hub.receive(session, '{"type":"subscribe","topics":["c"],"since":{"c":0}}');
    refs.push(new WeakRef(session));
  }
  return refs;
}

function disconnectAll(hub: Hub, refs: WeakRef<Session>[]): void {
  for (const ref of refs) {
    const session = ref.deref();
    if (session) hub.disconnected(session, 1006, "gone");
  }
}

Deno.test({
  name: "Hub keeps no reference to a client once it disconnected (run with --v8-flags=--expose-gc)",
  ignore: gc === undefined,
  async fn() {
    const hub = new Hub({
      bus: new MemoryBus(),
      logger: new Logger({ level: "silent" }),
      heartbeatMs: 60_000,
    });
    // Sessions live only inside these helpers, so no stack slot of this test keeps one alive.
    const refs = connectMany(hub, 200);
    await hub.publish([{ topic: "a", data: 1 }, { topic: "c", data: 2 }]);
    await new Promise((r) => setTimeout(r, 50));
    disconnectAll(hub, refs);
    await new Promise((r) => setTimeout(r, 50));
    gc!();
    await new Promise((r) => setTimeout(r, 0));
    gc!();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    assert.equal(alive, 0, `${alive} of 200 disconnected sessions are still referenced`);
    assert.equal(hub.clientCount, 0);
    await hub.shutdown(0);
  },
});

Deno.test("Hub answers a subscribe frame past --max-topics-per-client with one error and subscribes no more", async () => {
  const hub = new Hub({
    bus: new MemoryBus(),
    logger: new Logger({ level: "silent" }),
    heartbeatMs: 60_000,
    maxTopicsPerClient: 10,
  });
  const socket = new MemorySocket();
  const session = hub.connect(socket, { remote: "test" });
  const topics = Array.from({ length: 5000 }, (_, i) => `t${i}`);
  hub.receive(session, JSON.stringify({ type: "subscribe", topics }));
  hub.flush();
  assert.equal(session.subscriptions.size, 10);
  const errors = socket.frames.flatMap((f) => f.type === "error" ? [f] : []);
  assert.equal(errors.length, 1, "one error for the whole frame, not one per topic");
  assert.match(errors[0].message, /"t10", "t11", "t12" and 4987 more/);
  assert.equal(session.closed, false, "a well-behaved client is not closed");
  assert.equal(hub.snapshotStats().topics, 10);
  await hub.shutdown(0);
});

Deno.test("Hub.loadCodec brings MessagePack in on first need; binary frames are refused on JSON sessions", async () => {
  const hub = new Hub({
    bus: new MemoryBus(),
    logger: new Logger({ level: "silent" }),
    heartbeatMs: 60_000,
  });
  assert.throws(
    () => hub.connect(new MemorySocket(), { remote: "m", codec: "msgpack", level: "protocol" }),
    /not loaded/,
  );
  const json = new MemorySocket();
  const jsonSession = hub.connect(json, { remote: "j", level: "protocol" });
  hub.receive(
    jsonSession,
    new Uint8Array([0x81, 0xa4, 0x74, 0x79, 0x70, 0x65, 0xa4, 0x70, 0x69, 0x6e, 0x67]),
  );
  hub.flush();
  const refusal = json.frames.find((f) => f.type === "error");
  assert.equal(refusal?.type === "error" && refusal.code, "invalid_frame");
  assert.match(JSON.stringify(refusal), /floodgate\.v1\.msgpack/);
  await hub.loadCodec("msgpack");
  await hub.loadCodec("msgpack"); // once is enough
  const sent: (string | Uint8Array)[] = [];
  const socket = Object.assign(new MemorySocket(), {
    send: (frame: string | Uint8Array) => void sent.push(frame),
  });
  hub.connect(socket, { remote: "m", codec: "msgpack", level: "protocol" });
  hub.flush();
  assert.ok(sent.length > 0 && sent.every((f) => f instanceof Uint8Array), "binary frames");
  await hub.shutdown(0);
});
