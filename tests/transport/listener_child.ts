/**
 * A small server for tests that need their own process (a low descriptor
 * limit under `prlimit`): a Hono app with `GET /` ("ok") and an echoing
 * `GET /ws`, on `serveNode` (engine `ws`) or `serveDeno` (engine `deno`).
 * Prints `{"port": n}` on stdout once listening, and one JSON line on stderr
 * per error the listener or engine survived.
 *
 * Usage: `deno run -A listener_child.ts <ws|deno> [maxSockets] [acceptProbeMs]`
 *
 * @module
 */
import { Hono } from "hono";
import { DenoUpgrader } from "../../lib/transport/deno_upgrader.ts";
import type { EngineErrorHandler } from "../../lib/transport/engine_errors.ts";
import { type Listener, serveDeno, serveNode } from "../../lib/transport/listeners.ts";
import type { Upgrader } from "../../lib/transport/socket.ts";
import { WsUpgrader } from "../../lib/transport/ws_upgrader.ts";

if (import.meta.main) {
  // As main.ts does, and before descriptors run out: the runtime sets up its signal
  // handling on the first listener, and panics when it cannot (EMFILE).
  Deno.addSignalListener("SIGTERM", () => Deno.exit(0));
  const [engine = "ws", maxSockets, acceptProbeMs] = Deno.args;
  const number = (arg: string | undefined) => arg === undefined ? undefined : Number(arg);
  const onError: EngineErrorHandler = (error, where) =>
    console.error(JSON.stringify({ where, error: String(error) }));
  const upgrader: Upgrader = engine === "deno"
    ? new DenoUpgrader({ onError })
    : new WsUpgrader({ compression: "off", onError });
  const app = new Hono();
  app.get("/", (c) => c.text("ok"));
  app.get("/ws", (c) => {
    let socket: { send(data: string | Uint8Array): void } | undefined;
    return upgrader.upgrade(c.req.raw, { env: c.env }, {
      onOpen: (s) => (socket = s),
      onMessage: (data) => socket?.send(data),
      onClose() {},
    });
  });
  const listen = { port: 0, hostname: "127.0.0.1", onError };
  const listener: Listener = upgrader instanceof WsUpgrader
    ? await serveNode(app, upgrader, {
      ...listen,
      maxSockets: number(maxSockets),
      acceptProbeMs: number(acceptProbeMs),
    })
    : serveDeno(app, { ...listen, upgrader });
  console.log(JSON.stringify({ port: listener.port }));
}
