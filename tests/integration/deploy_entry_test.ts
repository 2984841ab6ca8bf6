/**
 * The entry point as Deno Deploy runs it: only network and environment access
 * (no file system, no --allow-sys), settings from the environment, the port
 * from PORT.
 */
import assert from "node:assert/strict";

Deno.test("main.ts serves with only --allow-net --allow-env, configured from the environment", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-env", new URL("../../main.ts", import.meta.url).pathname],
    env: { PORT: String(port), FLOODGATE_HOSTNAME: "127.0.0.1", FLOODGATE_HEARTBEAT: "7s" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const url = `http://127.0.0.1:${port}`;
    let health;
    for (let i = 0; i < 100 && !health; i++) {
      health = await fetch(`${url}/healthz`).then((r) => r.json()).catch(() => undefined);
      if (!health) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(health?.status, "ok");
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?topics=t`);
    const frames: { type: string; heartbeatMs?: number; data?: unknown }[] = [];
    const got = new Promise<void>((resolve) => {
      ws.onmessage = (e) => {
        frames.push(JSON.parse(e.data));
        if (frames.some((f) => f.type === "message")) resolve();
      };
    });
    await new Promise((r) => (ws.onopen = r));
    while (!frames.some((f) => f.type === "subscribed")) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await fetch(`${url}/publish`, {
      method: "POST",
      body: JSON.stringify({ topic: "t", data: "hi" }),
    });
    await got;
    assert.equal(frames[0].heartbeatMs, 7000, "FLOODGATE_HEARTBEAT was read");
    assert.ok(
      (await (await fetch(`${url}/metrics`)).text()).includes("floodgate_published_total 1"),
    );
    ws.close();
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    await child.stdout.cancel();
    await child.stderr.cancel();
    assert.equal(status.success, true, "SIGTERM shuts down gracefully with exit code 0");
  }
});
