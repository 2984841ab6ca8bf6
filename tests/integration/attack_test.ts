/**
 * The hardening findings as regression tests, over real sockets: each attack
 * runs against a fresh server, and after it an honest plain subscriber must
 * still get the next message (and have missed nothing before it).
 */
import assert from "node:assert/strict";
import type { FloodgateServer } from "../../lib/server.ts";
import type { Settings } from "../../lib/config/settings.ts";
import { publish, withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

/** Runs `attack` with an honest plain subscriber of "honest" watching, then checks it is served. */
async function underAttack(
  overrides: Partial<Settings>,
  attack: (server: FloodgateServer) => Promise<void>,
): Promise<void> {
  await withServer(overrides, async (server) => {
    const honest = await TestClient.connect(wsUrl(server, "?topics=honest"), { plain: true });
    try {
      await publish(server, { topic: "honest", data: "before" });
      await honest.waitFor(() => honest.messages("honest").length === 1, 5000, "before");
      await attack(server);
      const res = await publish(server, { topic: "honest", data: "after" });
      assert.equal(res.status, 202, `publishing after the attack: ${JSON.stringify(res.body)}`);
      await honest.waitFor(() => honest.messages("honest").length === 2, 5000, "after");
      assert.deepEqual(honest.messages("honest").map((m) => m.seq), [1, 2]);
      assert.deepEqual(honest.gaps(), []);
    } finally {
      honest.close();
    }
  });
}

Deno.test("attack: a batch that can never fit --publish-rate gets 413 at once, not 429 forever", async () => {
  await underAttack({ publishRate: 10 }, async (server) => {
    const batch = Array.from({ length: 21 }, (_, i) => ({ topic: "spam", data: i }));
    const res = await publish(server, batch);
    assert.equal(res.status, 413);
    assert.match(JSON.stringify(res.body), /burst of 20.*--publish-rate.*split/);
    // "before" took one token of the 20: the 19 left fit.
    const fits = await publish(server, batch.slice(0, 19));
    assert.equal(fits.status, 202, "a batch within the burst is accepted");
    // The honest publish that follows needs a token: wait for the bucket to refill one.
    await new Promise((r) => setTimeout(r, 150));
  });
});

Deno.test("attack: subscribing to 600 keyed topics in one frame is served, not closed 4008", async () => {
  await underAttack({ maxTopicsPerClient: 1000 }, async (server) => {
    const topics = Array.from({ length: 600 }, (_, i) => `k${i}`);
    for (let i = 0; i < topics.length; i += 100) {
      const batch = topics.slice(i, i + 100).map((topic) => ({
        topic,
        key: "state",
        data: { v: "x".repeat(200) },
      }));
      assert.equal((await publish(server, batch)).status, 202);
    }
    const reader = await TestClient.connect(wsUrl(server));
    reader.send({ type: "subscribe", topics });
    await reader.waitFor(
      () => reader.frames.filter((f) => f.type === "snapshot").length === topics.length,
      10_000,
      "600 snapshots",
    );
    const closed = await Promise.race([reader.closed, new Promise((r) => setTimeout(r, 100))]);
    assert.equal(closed, undefined, `the reader was closed: ${JSON.stringify(closed)}`);
    reader.close();
  });
});

Deno.test("attack: publishes once shutdown began get 503 and take no seq; those accepted before are delivered", async () => {
  await withServer({ shutdownTimeoutMs: 2000 }, async (server) => {
    const honest = await TestClient.connect(wsUrl(server, "?topics=t"), { plain: true });
    for (let n = 0; n < 5; n++) await publish(server, { topic: "t", data: n });
    // Publishes in flight when the shutdown begins.
    const before = Array.from({ length: 20 }, (_, n) => publish(server, { topic: "t", data: n }));
    await new Promise((r) => setTimeout(r, 0));
    const stop = server.shutdown();
    const after = await publish(server, { topic: "t", data: "late" });
    assert.equal(after.status, 503);
    assert.equal((after.body.error as { code: string }).code, "unavailable");
    const late = await server.hub.publish([{ topic: "t", data: "late" }]).catch((e) => e);
    assert.match(String(late), /shutting down/);
    const answers = await Promise.all(before);
    assert.ok(answers.every((r) => r.status === 202 || r.status === 503));
    const accepted = [
      1,
      2,
      3,
      4,
      5,
      ...answers.flatMap((r) => r.status === 202 ? [r.body.seq] : []),
    ];
    await stop;
    assert.deepEqual(
      honest.messages("t").map((m) => m.seq),
      accepted,
      "every accepted publish was delivered before the close, and no seq was taken after",
    );
    assert.equal((await honest.closed).code, 1001);
  });
});

Deno.test("attack: behind --trusted-proxies each forwarded client has its own per-address limits", async () => {
  const burst = (server: FloodgateServer, forwardedFor: string) =>
    Promise.all(Array.from({ length: 10 }, async (_, i) => {
      const res = await fetch(`${server.url}/publish`, {
        method: "POST",
        headers: { "x-forwarded-for": forwardedFor },
        body: JSON.stringify({ topic: "spam", data: i }),
      });
      await res.body?.cancel();
      return res.status;
    }));
  // --publish-rate 5: bursts of 10 per address.
  await underAttack({ publishRate: 5, trustedProxies: "127.0.0.1" }, async (server) => {
    assert.deepEqual(await burst(server, "1.1.1.1"), Array(10).fill(202));
    assert.deepEqual(await burst(server, "9.9.9.9, 2.2.2.2"), Array(10).fill(202));
    assert.ok((await burst(server, "1.1.1.1")).includes(429), "1.1.1.1 spent its own burst");
  });
  await underAttack({ publishRate: 5 }, async (server) => {
    // The honest "before" publish took one token of the peer's 10: the header is ignored.
    const statuses = await burst(server, "1.1.1.1");
    assert.equal(statuses.filter((s) => s === 202).length, 9, `${statuses}`);
    assert.equal(statuses.filter((s) => s === 429).length, 1, `${statuses}`);
    await new Promise((r) => setTimeout(r, 250)); // one token back for the honest publish
  });
});
