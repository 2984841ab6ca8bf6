/** Authentication and authorisation over real sockets, each refusal with its documented code. */
import assert from "node:assert/strict";
import { Logger } from "../../lib/log/logger.ts";
import { RawWebSocket } from "../../lib/load/raw_ws.ts";
import { startServer } from "../../lib/server.ts";
import { testSettings, withServer, wsUrl } from "../_support/server.ts";
import { signToken, TEST_SECRET } from "../_support/tokens.ts";
import { TestClient } from "../_support/test_client.ts";

async function post(url: string, body: unknown, authorization?: string) {
  const res = await fetch(`${url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(authorization && { authorization }) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Opens a socket expected to be refused after the upgrade; returns its close. */
async function closeOf(url: string, protocols?: string[]) {
  const ws = new WebSocket(url, protocols);
  return await new Promise<{ code: number; reason: string }>((resolve) => {
    ws.onclose = (e) => resolve({ code: e.code, reason: e.reason });
  });
}

Deno.test("POST /publish with --publish-token: 401 without or with a wrong token, 202 with it", async () => {
  await withServer({ publishToken: "pub-secret" }, async (server) => {
    const item = { topic: "t", data: 1 };
    const none = await post(server.url, item);
    assert.equal(none.status, 401);
    assert.equal(none.body.error.code, "unauthorized");
    assert.match(none.body.error.message, /Authorization: Bearer/);
    assert.equal((await post(server.url, item, "Bearer nope")).status, 401);
    assert.equal((await post(server.url, item, "Basic cHViLXNlY3JldA==")).status, 401);
    assert.deepEqual(await post(server.url, item, "Bearer pub-secret"), {
      status: 202,
      body: { accepted: 1, seq: 1 },
    });
  });
});

Deno.test("POST /publish with a JWT publishes only to the topics its publish claim allows", async () => {
  await withServer({ jwtSecret: TEST_SECRET }, async (server) => {
    const token = await signToken({ sub: "bot", publish: ["chat.*"] });
    assert.equal(
      (await post(server.url, { topic: "chat.room1", data: 1 }, `Bearer ${token}`)).status,
      202,
    );
    const denied = await post(server.url, { topic: "sessions", data: 1 }, `Bearer ${token}`);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.error.code, "forbidden");
  });
});

Deno.test("WebSocket with --jwt-secret: no token, a bad token and an expired one are closed with 4001/4010", async () => {
  await withServer({ jwtSecret: TEST_SECRET, adminToken: "admin-token" }, async (server) => {
    const none = await closeOf(wsUrl(server));
    assert.equal(none.code, 4001);
    assert.match(none.reason, /token is required/);
    const forged = await signToken(
      { subscribe: ["*"] },
      3600,
      "another-secret-of-32-bytes-or-more!",
    );
    const bad = await closeOf(wsUrl(server, `?token=${forged}`));
    assert.equal(bad.code, 4001);
    assert.match(bad.reason, /not valid/);
    const garbage = await closeOf(wsUrl(server, "?token=not.a.jwt"));
    assert.equal(garbage.code, 4001);
    const expired = await closeOf(
      wsUrl(server, `?token=${await signToken({ subscribe: ["*"] }, -60)}`),
    );
    assert.equal(expired.code, 4010);
    assert.match(expired.reason, /expired/);
    const stats = await (await fetch(`${server.url}/stats`, {
      headers: { authorization: "Bearer admin-token" },
    })).json();
    assert.equal(stats.server.clients, 0);
    assert.equal(stats.server.counters.rejections.unauthorized, 3);
    assert.equal(stats.server.counters.rejections.token_expired, 1);
  });
});

Deno.test("a token for another topic: subscribe is refused with an error frame, allowed topics work", async () => {
  await withServer({ jwtSecret: TEST_SECRET }, async (server) => {
    const token = await signToken({ sub: "u1", subscribe: ["sessions", "tabs.*"] });
    const c = await TestClient.connect(wsUrl(server, `?token=${token}&topics=tabs.7,secret`));
    await c.waitFor(() => c.ofType("error").length === 1 && c.ofType("subscribed").length === 1);
    assert.equal(c.ofType("error")[0].code, "forbidden");
    assert.match(c.ofType("error")[0].message, /"secret"/);
    assert.equal(c.ofType("subscribed")[0].topic, "tabs.7");
    c.send({ type: "publish", topic: "tabs.7", data: 1, id: "p" });
    await c.waitFor(() => c.ofType("error").length === 2, 5000, "publish refused");
    assert.deepEqual(
      { code: c.ofType("error")[1].code, id: c.ofType("error")[1].id },
      { code: "forbidden", id: "p" },
    );
    await c.close();
  });
});

Deno.test("the token may come as the floodgate.token.<jwt> subprotocol; the server answers floodgate.v1.json", async () => {
  await withServer({ jwtSecret: TEST_SECRET, publishToken: "p" }, async (server) => {
    const token = await signToken({ subscribe: ["feed"] });
    const c = await TestClient.connect(wsUrl(server, "?topics=feed"), {}, [
      "floodgate.v1.json",
      `floodgate.token.${token}`,
    ]);
    assert.equal(c.socket.protocol, "floodgate.v1.json");
    await c.waitFor(() => c.ofType("subscribed").length === 1, 5000, "subscribed");
    await post(server.url, { topic: "feed", data: 42 }, "Bearer p");
    await c.waitFor(() => c.messages().length === 1, 5000, "message");
    assert.equal(c.messages()[0].data, 42);
    await c.close();
  });
});

Deno.test("a connection whose token expires is closed with 4010", async () => {
  await withServer({ jwtSecret: TEST_SECRET, heartbeatMs: 200 }, async (server) => {
    const c = await TestClient.connect(
      wsUrl(server, `?token=${await signToken({ subscribe: ["*"] }, 1)}`),
    );
    const closed = await c.closed;
    assert.equal(closed.code, 4010);
  });
});

Deno.test("--allowed-origins refuses other browser origins with 403 before upgrading", async () => {
  await withServer({ allowedOrigins: "https://app.example.com" }, async (server) => {
    await assert.rejects(
      RawWebSocket.connect(wsUrl(server), { headers: { Origin: "https://evil.example.com" } }),
      /HTTP\/1.1 403/,
    );
    const ok = await RawWebSocket.connect(wsUrl(server), {
      headers: { Origin: "https://app.example.com" },
    });
    const welcome = await ok.read();
    assert.equal(welcome?.kind, "text");
    ok.abort();
    const stats = await (await fetch(`${server.url}/stats`)).json();
    assert.equal(stats.server.counters.rejections.forbidden, 1);
  });
});

Deno.test("with no auth configured everything is open and the startup log says so", async () => {
  for (const [overrides, expectWarning] of [[{}, true], [{ publishToken: "x" }, false]] as const) {
    const lines: string[] = [];
    const server = await startServer(testSettings(overrides), {
      logger: new Logger({ level: "info", sink: (l) => lines.push(l) }),
    });
    await server.shutdown();
    assert.equal(
      lines.some((l) => l.includes('"event":"auth.open"')),
      expectWarning,
      JSON.stringify(overrides),
    );
  }
});

Deno.test("GET /topics/:topic/state needs a token allowing the topic when --jwt-secret is set; CORS follows --allowed-origins", async () => {
  await withServer(
    { jwtSecret: TEST_SECRET, allowedOrigins: "https://app.example.com" },
    async (server) => {
      const url = `${server.url}/topics/sessions/state`;
      assert.equal((await (await fetch(url)).json()).error.code, "unauthorized");
      const other = await signToken({ subscribe: ["tabs.*"] });
      const forbidden = await fetch(url, { headers: { authorization: `Bearer ${other}` } });
      assert.equal(forbidden.status, 403);
      await forbidden.body?.cancel();
      const token = await signToken({ subscribe: ["sessions"] });
      const ok = await fetch(url, {
        headers: { authorization: `Bearer ${token}`, origin: "https://app.example.com" },
      });
      assert.equal(ok.status, 200);
      assert.equal(ok.headers.get("access-control-allow-origin"), "https://app.example.com");
      assert.deepEqual((await ok.json()).state, {});
      const viaQuery = await fetch(`${url}?token=${token}`);
      assert.equal(viaQuery.status, 200);
      await viaQuery.body?.cancel();
    },
  );
});

Deno.test("/stats and /metrics need --admin-token (or a JWT with admin: true) once auth is configured", async () => {
  await withServer({ jwtSecret: TEST_SECRET, adminToken: "admin-token" }, async (server) => {
    for (const path of ["/stats", "/metrics"]) {
      const anonymous = await fetch(`${server.url}${path}`);
      assert.equal(anonymous.status, 401, path);
      assert.match((await anonymous.json()).error.message, /admin/i);
      const admin = await fetch(`${server.url}${path}?token=admin-token`);
      assert.equal(admin.status, 200, path);
      await admin.body?.cancel();
      const jwt = await signToken({ admin: true }, 3600);
      const byJwt = await fetch(`${server.url}${path}`, {
        headers: { authorization: `Bearer ${jwt}` },
      });
      assert.equal(byJwt.status, 200, path);
      await byJwt.body?.cancel();
      const subscriber = await signToken({ subscribe: ["*"] }, 3600);
      const notAdmin = await fetch(`${server.url}${path}`, {
        headers: { authorization: `Bearer ${subscriber}` },
      });
      assert.equal(notAdmin.status, 403, path);
      await notAdmin.body?.cancel();
    }
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200, "/healthz stays open for load balancers");
    await health.body?.cancel();
  });
});

Deno.test("with only --publish-token, an anonymous WebSocket subscribes but may not publish; the token publishes", async () => {
  await withServer({ publishToken: "pub-secret" }, async (server) => {
    const anonymous = await TestClient.connect(wsUrl(server, "?topics=t"));
    anonymous.send({ type: "publish", topic: "t", data: 1, id: 1 });
    await anonymous.waitFor(() => anonymous.ofType("error").length === 1, 5000, "the refusal");
    const refusal = anonymous.ofType("error")[0] as { code: string; id?: number };
    assert.equal(refusal.code, "forbidden");
    assert.equal(refusal.id, 1);
    assert.equal(anonymous.ofType("ack").length, 0);
    const publisher = await TestClient.connect(wsUrl(server, "?token=pub-secret"));
    publisher.send({ type: "publish", topic: "t", data: 2, id: 2 });
    await publisher.waitFor(() => publisher.ofType("ack").length === 1, 5000, "the ack");
    await anonymous.waitFor(() => anonymous.messages("t").length === 1, 5000, "the message");
    assert.deepEqual(anonymous.messages("t").map((m) => m.data), [2]);
    anonymous.close();
    publisher.close();
  });
});
