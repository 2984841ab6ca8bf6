import assert from "node:assert/strict";
import { httpTransport, WsPublishTransport } from "../../lib/load/publish_transport.ts";
import { withServer, wsUrl } from "../_support/server.ts";

Deno.test("WsPublishTransport gets Floodgate's ack with the seq, and errors for bad topics", async () => {
  await withServer({}, async (server) => {
    const t = await WsPublishTransport.connect(wsUrl(server));
    const items = [1, 2, 3].map((i) => ({ topic: "feed", data: { i } }));
    const outcomes = await Promise.all(items.map((item) => t.publish(item, JSON.stringify(item))));
    assert.deepEqual(outcomes.map((o) => o.ok && o.seq).sort(), [1, 2, 3]);
    const bad = { topic: "$metrics", data: 1 };
    assert.deepEqual(await t.publish(bad, JSON.stringify(bad)), { ok: false, reason: "forbidden" });
    await t.close();
    assert.deepEqual(await t.publish(items[0], ""), { ok: false, reason: "closed 1000" });
  });
});

Deno.test("httpTransport returns the seq of a 202 and the status otherwise", async () => {
  await withServer({}, async (server) => {
    const t = httpTransport(server.url);
    const item = { topic: "feed", data: 1 };
    assert.deepEqual(await t.publish(item, JSON.stringify(item)), { ok: true, seq: 1 });
    assert.deepEqual(await t.publish(item, "{not json"), { ok: false, reason: "HTTP 400" });
  });
});
