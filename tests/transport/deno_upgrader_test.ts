import assert from "node:assert/strict";
import { RawWebSocket } from "../../lib/load/raw_ws.ts";
import { DenoUpgrader } from "../../lib/transport/deno_upgrader.ts";
import type { ServerSocket, SocketHandlers } from "../../lib/transport/socket.ts";
import { readUntilClose } from "../_support/raw_read.ts";

const gc = (globalThis as { gc?: () => void }).gc;

/** A server whose every connection gets handlers from `make`. */
function serve(make: () => SocketHandlers) {
  const upgrader = new DenoUpgrader();
  return Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (req) => upgrader.upgrade(req, {}, make()),
  );
}

Deno.test("DenoUpgrader delivers open, messages and close to the handlers", async () => {
  const events: string[] = [];
  let closed!: () => void;
  const done = new Promise<void>((r) => (closed = r));
  const server = serve(() => ({
    onOpen: (socket) => socket.send("hello"),
    onMessage: (data) => events.push(`message ${data}`),
    onClose: (code) => {
      events.push(`close ${code}`);
      closed();
    },
  }));
  const ws = new WebSocket(`ws://127.0.0.1:${server.addr.port}/`);
  const hello = await new Promise<string>((r) => (ws.onmessage = (e) => r(e.data)));
  ws.send("hi");
  ws.close(1000);
  await done;
  assert.equal(hello, "hello");
  assert.deepEqual(events, ["message hi", "close 1000"]);
  await server.shutdown();
});

Deno.test("DenoUpgrader's close frame reaches a peer that is still sending (lingering close)", async () => {
  const server = serve(() => {
    let socket: ServerSocket;
    let n = 0;
    return {
      onOpen: (s) => (socket = s),
      onMessage: () => {
        if (++n === 41) socket.close(1008, "too many frames");
      },
      onClose: () => {},
    };
  });
  const raw = await RawWebSocket.connect(`ws://127.0.0.1:${server.addr.port}/`);
  for (let i = 0; i < 200; i++) await raw.sendText("flood");
  const read = await readUntilClose(raw, 3000);
  assert.deepEqual(read.close, { code: 1008, reason: "too many frames" });
  raw.abort();
  await server.shutdown();
});

Deno.test({
  name:
    "DenoUpgrader lets go of the handlers of a closed connection (run with --v8-flags=--expose-gc)",
  ignore: gc === undefined,
  sanitizeResources: false,
  async fn() {
    const refs: WeakRef<SocketHandlers>[] = [];
    let closes = 0;
    const server = serve(() => {
      const handlers: SocketHandlers = {
        onOpen() {},
        onMessage() {},
        onClose: () => void closes++,
      };
      refs.push(new WeakRef(handlers));
      return handlers;
    });
    for (let i = 0; i < 50; i++) {
      const raw = await RawWebSocket.connect(`ws://127.0.0.1:${server.addr.port}/`);
      await raw.sendText("x");
      raw.abort(); // a peer that vanishes
    }
    for (let i = 0; i < 100 && closes < 50; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(closes, 50);
    gc!();
    await new Promise((r) => setTimeout(r, 0));
    gc!();
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    assert.ok(alive <= 1, `${alive} of 50 closed connections still hold their handlers`);
    await server.shutdown();
  },
});
