/** Configurable limits over real sockets: each refusal is clear, counted, and others keep being served. */
import assert from "node:assert/strict";
import { publish, withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

Deno.test("--max-connections answers 503 when full", async () => {
  await withServer({ maxConnections: 2 }, async (server) => {
    const a = await TestClient.connect(wsUrl(server));
    const b = await TestClient.connect(wsUrl(server));
    const res = await fetch(`${server.url}/ws`, { headers: { upgrade: "websocket" } });
    assert.equal(res.status, 503);
    assert.equal((await res.json()).error.code, "limit_reached");
    await a.close();
    await b.close();
  });
});

Deno.test("--max-inbound-rate closes a flooding connection with 1008 and a clear reason", async () => {
  await withServer({ maxInboundRate: 20 }, async (server) => {
    const flooder = await TestClient.connect(wsUrl(server));
    const calm = await TestClient.connect(wsUrl(server, "?topics=t"));
    for (let i = 0; i < 200; i++) flooder.send("ping");
    const closed = await flooder.closed;
    assert.equal(closed.code, 1008);
    assert.match(closed.reason, /inbound rate limit exceeded: more than 20 frames\/s/);
    await publish(server, { topic: "t", data: 1 });
    await calm.waitFor(() => calm.messages().length === 1, 5000, "message");
    await calm.close();
  });
});

Deno.test("--max-topics-per-client refuses further subscribes with limit_reached", async () => {
  await withServer({ maxTopicsPerClient: 2 }, async (server) => {
    const c = await TestClient.connect(wsUrl(server));
    c.send({ type: "subscribe", topics: ["a", "b", "c"] });
    await c.waitFor(() => c.ofType("error").length === 1 && c.ofType("subscribed").length === 2);
    assert.equal(c.ofType("error")[0].code, "limit_reached");
    assert.match(c.ofType("error")[0].message, /"c"/);
    await c.close();
  });
});

Deno.test("--publish-rate answers 429 with Retry-After past the per-publisher rate", async () => {
  await withServer({ publishRate: 5 }, async (server) => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 15; i++) {
      const res = await fetch(`${server.url}/publish`, {
        method: "POST",
        body: JSON.stringify({ topic: "t", data: i }),
      });
      statuses.push(res.status);
      if (res.status === 429) {
        retryAfter = res.headers.get("retry-after");
        assert.equal((await res.json()).error.code, "rate_limited");
      } else await res.body?.cancel();
    }
    assert.equal(statuses.filter((s) => s === 202).length, 10, `statuses: ${statuses}`); // the burst of 2 s
    assert.ok(statuses.includes(429));
    assert.ok(retryAfter !== null && Number(retryAfter) >= 1);
  });
});

Deno.test("--max-topics refuses publishes that would create one topic too many", async () => {
  await withServer({ maxTopics: 3 }, async (server) => {
    for (const t of ["a", "b", "c"]) {
      assert.equal((await publish(server, { topic: t, data: 1 })).status, 202);
    }
    const refused = await publish(server, { topic: "d", data: 1 });
    assert.equal(refused.status, 503);
    assert.match((refused.body.error as { message: string }).message, /--max-topics/);
    assert.equal((await publish(server, { topic: "a", data: 2 })).status, 202);
  });
});

Deno.test("/metrics shows the configured limits and every refusal by reason", async () => {
  await withServer({ maxConnections: 1, publishRate: 1 }, async (server) => {
    const a = await TestClient.connect(wsUrl(server));
    await (await fetch(`${server.url}/ws`, { headers: { upgrade: "websocket" } })).body?.cancel();
    for (let i = 0; i < 4; i++) await publish(server, { topic: "t", data: i });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.match(text, /^floodgate_limit\{name="max_connections"\} 1$/m);
    assert.match(text, /^floodgate_limit\{name="publish_rate"\} 1$/m);
    assert.match(text, /^floodgate_rejections_total\{reason="connection_limit"\} 1$/m);
    assert.match(text, /^floodgate_rejections_total\{reason="rate_limited"\} 2$/m);
    await a.close();
  });
});
