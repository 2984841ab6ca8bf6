/**
 * "Nothing a client does can take the process down", at the transport:
 * broken handshakes, bursts of concurrent upgrades and running the process
 * out of file descriptors, against whole servers on both engines.
 */
import assert from "node:assert/strict";
import { Logger } from "../../lib/log/logger.ts";
import { TestClient } from "../_support/test_client.ts";
import { publish, withServer, wsUrl } from "../_support/server.ts";
import { exchange, upgradeRequest, wholeResponse } from "../transport/raw_http.ts";

const ENGINES = ["ws", "deno"] as const;

for (const engine of ENGINES) {
  Deno.test(`${engine} engine: broken upgrade handshakes get 400 or 426, no error log, and the server goes on`, async () => {
    const lines: string[] = [];
    const logger = new Logger({ level: "warn", sink: (line) => lines.push(line) });
    await withServer({ engine }, async (server) => {
      const cases: { drop?: string[]; extra?: Record<string, string>; status: number }[] = [
        { drop: ["Sec-WebSocket-Key"], status: 400 },
        { drop: ["Connection"], status: 400 },
        { extra: { "Sec-WebSocket-Version": "8" }, status: 426 },
        { extra: { "Sec-WebSocket-Key": "short" }, status: 400 },
      ];
      for (const { status, ...options } of cases) {
        const reply = await exchange(
          server.port,
          upgradeRequest("/ws", options),
          3000,
          wholeResponse,
        );
        assert.equal(reply.status, status, JSON.stringify(options));
        assert.equal(JSON.parse(reply.body).error.code, "invalid_frame");
        if (status === 426) assert.equal(reply.headers.get("sec-websocket-version"), "13");
      }
      assert.deepEqual(lines.filter((l) => JSON.parse(l).level === "error"), []);
      const ws = new WebSocket(wsUrl(server));
      const welcome = await new Promise<string>((
        resolve,
      ) => (ws.onmessage = (e) => resolve(e.data)));
      assert.equal(JSON.parse(welcome).type, "welcome");
      const closed = new Promise((r) => (ws.onclose = r));
      ws.close();
      await closed;
    }, { logger });
  });

  Deno.test(`${engine} engine: a burst of concurrent upgrades does not overshoot --max-connections`, async () => {
    const max = 20;
    await withServer({ engine, maxConnections: max }, async (server) => {
      const attempts = Array.from({ length: 200 }, () => {
        const ws = new WebSocket(wsUrl(server));
        return new Promise<WebSocket | undefined>((resolve) => {
          ws.onmessage = () => resolve(ws); // the welcome: a hub client
          ws.onerror = () => resolve(undefined);
          ws.onclose = () => resolve(undefined);
        });
      });
      const opened = (await Promise.all(attempts)).filter((ws) => ws !== undefined);
      assert.equal(opened.length, max);
      assert.equal(server.hub.clientCount, max);
      await Promise.all(opened.map((ws) => {
        const closed = new Promise((r) => (ws.onclose = r));
        ws.close();
        return closed;
      }));
    });
  });

  Deno.test(`${engine} engine: main.ts under ulimit -n 256 outlives 1,500 connections and serves again`, async () => {
    const child = new Deno.Command("prlimit", {
      args: [
        "--nofile=256",
        Deno.execPath(),
        "run",
        "-A",
        new URL("../../main.ts", import.meta.url).pathname,
        "--port",
        "0",
        "--hostname",
        "127.0.0.1",
        "--engine",
        engine,
        "--stats-interval",
        "0",
      ],
      stdout: "piped",
      stderr: "piped",
      env: { DENO_NO_UPDATE_CHECK: "1" },
    }).spawn();
    let errors = "";
    const stderrDone = (async () => {
      for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) errors += chunk;
    })();
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    try {
      let out = "";
      let url: string | undefined;
      while (!url) {
        const read = await reader.read();
        if (read.done) throw new Error(`main.ts exited before listening: ${errors}`);
        out += read.value;
        url = /"event":"server\.listen","url":"([^"]+)"/.exec(out)?.[1];
      }
      const port = Number(new URL(url).port);
      const before = new WebSocket(`${url.replace("http", "ws")}/ws`);
      await new Promise((resolve) => (before.onmessage = resolve));
      const conns = await Promise.allSettled(Array.from({ length: 1500 }, () => connect(port)));
      for (const r of conns) if (r.status === "fulfilled") close(r.value);
      const deadline = Date.now() + 15_000;
      let healthy = false;
      while (!healthy && Date.now() < deadline) {
        try {
          const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
          await res.body?.cancel();
          healthy = res.ok;
        } catch {
          // not yet
        }
      }
      assert.equal(healthy, true, `no /healthz after the flood: ${errors}`);
      const after = new WebSocket(`${url.replace("http", "ws")}/ws`);
      const welcome = await new Promise<string>((
        resolve,
      ) => (after.onmessage = (e) => resolve(e.data)));
      assert.equal(JSON.parse(welcome).type, "welcome");
      assert.equal(before.readyState, WebSocket.OPEN, "the connection from before the flood");
      for (const ws of [before, after]) {
        const closed = new Promise((r) => (ws.onclose = r));
        ws.close();
        await closed;
      }
      assert.doesNotMatch(errors, /Uncaught|panicked/);
      assert.match(errors, /"event":"fd\.limit"/, "the startup warning about ulimit -n");
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await reader.cancel();
      await stderrDone;
    }
  });
}

function connect(port: number): Promise<Deno.Conn> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    Deno.connect({ hostname: "127.0.0.1", port }),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("connect timed out")), 3000);
    }),
  ]).finally(() => clearTimeout(timer));
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // reset by the server
  }
}

Deno.test("ws engine: 300 half-open handshakes are answered 408 and closed after --handshake-timeout, an honest subscriber unharmed", async () => {
  await withServer({ handshakeTimeoutMs: 300 }, async (server) => {
    const honest = await TestClient.connect(wsUrl(server, "?topics=feed"));
    await honest.waitFor(() => honest.ofType("subscribed").length === 1, 5000, "subscribed");
    const partial = "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n";
    // Half of them send nothing at all, half stop in the middle of their headers.
    const replies = await Promise.all(
      Array.from({ length: 300 }, (_, i) => exchange(server.port, i % 2 ? partial : "", 5000)),
    );
    for (const reply of replies) {
      assert.equal(reply.closed, true, "closed by the server, not by the test's timeout");
      assert.equal(reply.status, 408);
    }
    for (let i = 0; i < 20; i++) await publish(server, { topic: "feed", data: i });
    await honest.waitFor(() => honest.messages("feed").length === 20, 5000, "20 messages");
    assert.deepEqual(
      honest.messages("feed").map((m) => m.seq),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
    assert.deepEqual(honest.gaps(), []);
    await honest.close();
  });
});
