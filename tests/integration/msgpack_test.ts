/** The MessagePack codec over real sockets, chosen by subprotocol, with batches and chunks. */
import assert from "node:assert/strict";
import { tabTree } from "../../lib/load/payloads.ts";
import { chunkBinary } from "../../lib/protocol/chunking.ts";
import { msgpackCodec } from "../../lib/protocol/codec.ts";
import { publish, withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

const MSGPACK = "floodgate.v1.msgpack";

Deno.test("a floodgate.v1.msgpack client gets binary frames with the same content as a JSON client", async () => {
  await withServer({ heartbeatMs: 60_000 }, async (server) => {
    const mp = await TestClient.connect(wsUrl(server, "?topics=feed"), {}, [MSGPACK]);
    const js = await TestClient.connect(wsUrl(server, "?topics=feed"), {}, ["floodgate.v1.json"]);
    assert.equal(mp.socket.protocol, MSGPACK);
    assert.equal(js.socket.protocol, "floodgate.v1.json");
    await mp.waitFor(() => mp.ofType("subscribed").length === 1);
    await js.waitFor(() => js.ofType("subscribed").length === 1);
    await publish(server, [
      { topic: "feed", key: "a", data: { n: 1, s: "é😀", f: 0.5, nested: [null, true] } },
      { topic: "feed", key: "a", patch: { n: 2 } },
      { topic: "feed", key: "a", delete: true },
    ]);
    await mp.waitFor(() => mp.messages("feed").length === 3);
    await js.waitFor(() => js.messages("feed").length === 3);
    assert.deepEqual(mp.messages("feed"), js.messages("feed"));
    await mp.close();
    await js.close();
  });
});

Deno.test("a large MessagePack frame arrives in binary chunks within --chunk-bytes", async () => {
  await withServer({ heartbeatMs: 60_000, chunkBytes: 16 * 1024 }, async (server) => {
    const mp = await TestClient.connect(wsUrl(server, "?topics=tabs"), {}, [MSGPACK]);
    await mp.waitFor(() => mp.ofType("subscribed").length === 1);
    const tree = tabTree(200_000);
    await publish(server, { topic: "tabs", key: "w", data: tree });
    await mp.waitFor(() => mp.messages("tabs").length === 1, 10_000, "the large message");
    assert.deepEqual(mp.messages("tabs")[0].data, tree);
    const chunks = mp.wire.filter((w) => w.frame.type === "chunked.data");
    assert.ok(chunks.length >= 8, `${chunks.length} chunks`);
    for (const w of mp.wire) assert.ok(w.bytes <= 16 * 1024, `${w.frame.type}: ${w.bytes} B`);
    assert.ok(chunks.every((w) => (w.frame as { data: unknown }).data instanceof Uint8Array));
    await mp.close();
  });
});

Deno.test("a MessagePack client publishes in binary frames, chunked or whole", async () => {
  await withServer({ heartbeatMs: 60_000 }, async (server) => {
    const sub = await TestClient.connect(wsUrl(server, "?topics=t"));
    const mp = await TestClient.connect(wsUrl(server), {}, [MSGPACK]);
    await sub.waitFor(() => sub.ofType("subscribed").length === 1);
    mp.send({ type: "publish", topic: "t", data: { small: true }, id: 1 });
    const codec = msgpackCodec();
    const big = { type: "publish", topic: "t", data: tabTree(150_000), id: 2 };
    const bytes = codec.encode(big) as Uint8Array;
    for (const f of chunkBinary(bytes, 1, 32 * 1024, (x) => codec.encode(x) as Uint8Array)) {
      mp.socket.send(f);
    }
    await mp.waitFor(() => mp.ofType("ack").length === 2, 10_000, "2 acks");
    await sub.waitFor(() => sub.messages("t").length === 2, 10_000, "2 messages");
    assert.deepEqual(sub.messages("t").map((m) => m.data), [{ small: true }, big.data]);
    mp.socket.send(new Uint8Array([0xc1]));
    await mp.waitFor(() => mp.ofType("error").length === 1);
    assert.equal(mp.ofType("error")[0].code, "bad_json");
    await sub.close();
    await mp.close();
  });
});
