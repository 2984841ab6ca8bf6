import assert from "node:assert/strict";
import { ServerSampler } from "../../lib/load/server_sampler.ts";
import { withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

Deno.test("ServerSampler reads Floodgate's /metrics and /stats", async () => {
  await withServer({}, async (server) => {
    const client = await TestClient.connect(wsUrl(server, "?topics=feed"));
    const sampler = new ServerSampler(server.url);
    const first = await sampler.sample();
    await fetch(`${server.url}/publish`, {
      method: "POST",
      body: JSON.stringify({ topic: "feed", data: "x".repeat(200_000) }),
    }).then((r) => r.body?.cancel());
    await client.waitFor(() => client.messages("feed").length === 1);
    await new Promise((r) => setTimeout(r, 50));
    const second = await sampler.sample();
    assert.ok(first && second);
    assert.equal(first.cpuPercent, 0, "no CPU figure without an earlier sample");
    assert.ok(second.rssBytes > 10e6, `RSS ${second.rssBytes}`);
    assert.equal(second.clients, 1);
    assert.equal(second.published - first.published, 1);
    assert.equal(second.delivered - first.delivered, 1);
    assert.ok(second.bytesSent - first.bytesSent >= 200_000);
    assert.ok(second.cpuSeconds >= first.cpuSeconds);
    await sampler.sampleClients();
    const id = client.ofType("welcome")[0].clientId;
    assert.deepEqual(sampler.client(id), { dropped: 0, coalesced: 0, sentMessages: 1 });
    assert.equal(sampler.client("nobody"), undefined);
    assert.equal(sampler.samples.length, 2);
    await client.close();
  });
});

Deno.test("ServerSampler says why when the server cannot be read", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  const sampler = new ServerSampler(`http://127.0.0.1:${port}`);
  assert.equal(await sampler.sample(), undefined);
  assert.match(sampler.error ?? "", /^GET http:\/\/127\.0\.0\.1:\d+\/metrics failed: .*refused/);
});
