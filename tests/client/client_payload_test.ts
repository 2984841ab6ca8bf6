/** The client SDK against the real server's large payloads: chunks, patches, both codecs. */
import assert from "node:assert/strict";
import { connect } from "../../lib/client/client.ts";
import type { Message } from "../../lib/client/events.ts";
import { tabTree } from "../../lib/load/payloads.ts";
import { publish, withServer, wsUrl } from "../_support/server.ts";
import { waitUntil } from "../_support/wait.ts";

for (const codec of ["json", "msgpack"] as const) {
  Deno.test(`the SDK (${codec}) reassembles the server's chunks and applies its patches`, async () => {
    await withServer({ chunkBytes: 16 * 1024 }, async (server) => {
      const fg = connect(wsUrl(server), { codec });
      const got: Message[] = [];
      fg.subscribe("tabs", (m) => got.push(m));
      const tabs = fg.state("tabs");
      await waitUntil(() => fg.lastSeq("tabs") === 0, 5000, "subscribed");
      assert.equal(fg.codec, codec);
      const tree = tabTree(200_000);
      await publish(server, { topic: "tabs", key: "w1", data: tree });
      await publish(server, { topic: "tabs", key: "w1", patch: { version: 7 } });
      await publish(server, { topic: "tabs", key: "w2", data: 1 });
      await publish(server, { topic: "tabs", key: "w2", delete: true });
      await waitUntil(() => got.length === 4, 10_000, "4 messages");
      assert.deepEqual(tabs.get("w1"), { ...tree, version: 7 });
      assert.equal(tabs.has("w2"), false);
      assert.ok(fg.stats.chunkedFrames >= 1, "the large message came in chunks");
      const state = await (await fetch(`${server.url}/topics/tabs/state`)).json();
      assert.deepEqual(state.state, tabs.toObject());
      await fg.close();
    });
  });
}
