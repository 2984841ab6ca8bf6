/** Bad input gets a clear error, the connection stays, and everyone else is served. */
import assert from "node:assert/strict";
import { encodeClientFrame, Opcode, RawWebSocket } from "../../lib/load/raw_ws.ts";
import { readUntilClose } from "../_support/raw_read.ts";
import { publish, withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

Deno.test("malformed frames get error frames and the connection keeps working", async () => {
  await withServer({}, async (server) => {
    const c = await TestClient.connect(wsUrl(server));
    const bad: [unknown, string][] = [
      ["{not json", "bad_json"],
      ['"just a string"', "invalid_frame"],
      [{ type: "explode" }, "unknown_type"],
      [{ type: "subscribe" }, "invalid_frame"],
      [{ type: "subscribe", topics: ["has space"] }, "invalid_topic"],
      [{ type: "subscribe", topics: ["ok"], since: { ok: -1 } }, "invalid_frame"],
      [{ type: "publish", topic: "t" }, "invalid_frame"],
      [{ type: "publish", topic: "$sys", data: 1, id: 9 }, "forbidden"],
      [{ type: "publish", data: 1 }, "invalid_topic"],
      [{ type: "publish", topic: "t", key: 5, data: 1 }, "invalid_frame"],
    ];
    for (const [frame] of bad) c.send(frame);
    c.socket.send(new Uint8Array([1, 2, 3]));
    await c.waitFor(() => c.ofType("error").length === bad.length + 1, 5000, "all errors");
    const errors = c.ofType("error");
    assert.deepEqual(errors.slice(0, bad.length).map((e) => e.code), bad.map(([, code]) => code));
    assert.equal(errors[7].id, 9, "an error answers the frame's id");
    assert.equal(errors[bad.length].code, "invalid_frame");
    for (const e of errors) {
      assert.ok(e.message.length > 10, `error message too terse: ${e.message}`);
    }

    c.send({ type: "subscribe", topics: ["ok"] });
    await c.waitFor(() => c.ofType("subscribed").length === 1, 5000, "subscribed");
    await publish(server, { topic: "ok", data: "still here" });
    await c.waitFor(() => c.messages().length === 1, 5000, "message after errors");
    await c.close();
  });
});

Deno.test("POST /publish rejects bad bodies with 400 and a JSON error, and 413 over the limit", async () => {
  await withServer({ maxBodyBytes: 1024 }, async (server) => {
    const cases: [unknown, number, string][] = [
      ["{nope", 400, "bad_json"],
      [{ data: 1 }, 400, "invalid_topic"],
      [{ topic: "a b", data: 1 }, 400, "invalid_topic"],
      [{ topic: "t" }, 400, "invalid_frame"],
      [[], 400, "invalid_frame"],
      [[{ topic: "t", data: 1 }, { topic: "" }], 400, "invalid_topic"],
      [{ topic: "$metrics", data: 1 }, 403, "forbidden"],
      [{ topic: "t", data: "x".repeat(2000) }, 413, "too_large"],
    ];
    for (const [body, status, code] of cases) {
      const res = await publish(server, body);
      assert.equal(res.status, status, `status for ${JSON.stringify(body).slice(0, 40)}`);
      assert.equal((res.body.error as { code: string }).code, code);
    }
    // Nothing was published by the rejected bodies, not even the valid first item.
    const state = await (await fetch(`${server.url}/topics/t/state`)).json();
    assert.equal(state.seq, 0);
  });
});

Deno.test("a frame over --max-inbound-bytes closes with 1009 while others keep being served", async () => {
  await withServer({ maxInboundBytes: 4096 }, async (server) => {
    const big = await TestClient.connect(wsUrl(server, "?topics=t"));
    const other = await TestClient.connect(wsUrl(server, "?topics=t"));
    big.send({ type: "publish", topic: "t", data: "x".repeat(5000) });
    const closed = await big.closed;
    assert.equal(closed.code, 1009);
    assert.match(closed.reason, /max-inbound-bytes/);
    await publish(server, { topic: "t", data: "after" });
    await other.waitFor(() => other.messages().length === 1, 5000, "message to the other client");
    assert.equal(other.messages()[0].data, "after");
    const stats = await (await fetch(`${server.url}/stats`)).json();
    assert.equal(stats.server.counters.oversizeFrames, 1);
    await other.close();
  });
});

Deno.test("a frame of invalid UTF-8 ends only that connection", async () => {
  await withServer({}, async (server) => {
    const other = await TestClient.connect(wsUrl(server, "?topics=t"));
    const raw = await RawWebSocket.connect(wsUrl(server));
    const welcome = await raw.read();
    assert.equal(welcome?.kind, "text");
    await raw.writeRaw(encodeClientFrame(Opcode.Text, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])));
    // Deno's engine drops the connection (no close frame) as soon as it sees the bad bytes.
    const read = await readUntilClose(raw, 3000);
    assert.ok(read.ended || read.close, "the connection should end, not linger");
    raw.abort();
    await publish(server, { topic: "t", data: 1 });
    await other.waitFor(() => other.messages().length === 1, 5000, "message");
    const stats = await (await fetch(`${server.url}/stats`)).json();
    assert.equal(stats.server.clients, 1);
    await other.close();
  });
});

Deno.test("a protocol-aware client that never answers pings is closed with 4009 naming the pong", async () => {
  await withServer({ heartbeatMs: 100, heartbeatTimeoutMs: 250 }, async (server) => {
    const silent = await TestClient.connect(wsUrl(server), { answerPings: false });
    const polite = await TestClient.connect(wsUrl(server));
    const plain = await TestClient.connect(wsUrl(server), { plain: true });
    const closed = await silent.closed;
    assert.equal(closed.code, 4009);
    assert.equal(
      closed.reason,
      "heartbeat timeout: no pong {id} answering the server's ping frame within 250 ms",
    );
    assert.ok(polite.ofType("ping").length >= 2, "the polite client was pinged");
    assert.equal(polite.socket.readyState, WebSocket.OPEN);
    assert.equal(plain.ofType("ping").length, 0, "a plain client is never sent ping frames");
    assert.equal(plain.socket.readyState, WebSocket.OPEN);
    await polite.close();
    await plain.close();
  });
});
