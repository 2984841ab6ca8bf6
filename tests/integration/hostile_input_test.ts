/**
 * Hostile and broken peers: enormous declared lengths, peers that vanish in the
 * middle of a frame, handshakes that never finish. Each test checks that the
 * hostile connection is dealt with and that a well-behaved client is served
 * throughout.
 */
import assert from "node:assert/strict";
import { RawWebSocket } from "../../lib/load/raw_ws.ts";
import type { FloodgateServer } from "../../lib/server.ts";
import { readUntilClose } from "../_support/raw_read.ts";
import { publish, withServer, wsUrl } from "../_support/server.ts";
import { TestClient } from "../_support/test_client.ts";

/** A frame header declaring `length` payload bytes (masked, text), without the payload. */
function header(length: number): Uint8Array {
  const h = new Uint8Array(14);
  h[0] = 0x81;
  h[1] = 0xff;
  new DataView(h.buffer).setBigUint64(2, BigInt(length));
  h.set([1, 2, 3, 4], 10);
  return h;
}

async function clients(server: FloodgateServer): Promise<number> {
  return (await (await fetch(`${server.url}/stats`)).json()).server.clients;
}

async function stillServes(server: FloodgateServer, c: TestClient, n: number): Promise<void> {
  await publish(server, { topic: "ok", data: n });
  await c.waitFor(() => c.messages("ok").length === n, 5000, `message ${n}`);
}

Deno.test("a frame declaring an enormous length is refused at once, without allocating it", async () => {
  await withServer({}, async (server) => {
    const good = await TestClient.connect(wsUrl(server, "?topics=ok"));
    const raw = await RawWebSocket.connect(wsUrl(server));
    await raw.writeRaw(header(2 ** 40));
    let sent = 0;
    try {
      for (; sent < 16 << 20; sent += 1 << 16) await raw.writeRaw(new Uint8Array(1 << 16));
    } catch {
      // the server reset the connection: what we want
    }
    assert.ok(sent < 16 << 20, "the server should drop the connection instead of reading 16 MiB");
    raw.abort();
    await stillServes(server, good, 1);
    await good.close();
  });
});

Deno.test("a frame over --max-inbound-bytes but under the engine's limit is closed with 1009", async () => {
  await withServer({ maxInboundBytes: 64 << 10 }, async (server) => {
    const good = await TestClient.connect(wsUrl(server, "?topics=ok"));
    const raw = await RawWebSocket.connect(wsUrl(server));
    const len = 256 << 10;
    await raw.writeRaw(header(len));
    await raw.writeRaw(new Uint8Array(len)); // zeros masked with 1,2,3,4: valid UTF-8
    const read = await readUntilClose(raw, 3000);
    assert.equal(read.close?.code, 1009);
    raw.abort();
    await stillServes(server, good, 1);
    await good.close();
  });
});

Deno.test("peers that vanish in the middle of a frame are cleaned up", async () => {
  await withServer({}, async (server) => {
    const good = await TestClient.connect(wsUrl(server, "?topics=ok"));
    for (let i = 0; i < 20; i++) {
      const raw = await RawWebSocket.connect(wsUrl(server, "?topics=ok"));
      await raw.writeRaw(header(512 << 10));
      await raw.writeRaw(new Uint8Array(100 << 10));
      raw.abort();
    }
    for (let i = 0; i < 50 && (await clients(server)) > 1; i++) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(await clients(server), 1);
    await stillServes(server, good, 1);
    await good.close();
  });
});

Deno.test("handshakes that never finish do not stop anyone else being served", async () => {
  await withServer({}, async (server) => {
    const good = await TestClient.connect(wsUrl(server, "?topics=ok"));
    const stuck: Deno.TcpConn[] = [];
    for (let i = 0; i < 100; i++) {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.port });
      if (i % 2 === 0) {
        // Half a request, then silence (slowloris); the other half send nothing at all.
        await conn.write(
          new TextEncoder().encode("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"),
        );
      }
      stuck.push(conn);
    }
    await stillServes(server, good, 1);
    const late = await TestClient.connect(wsUrl(server, "?topics=ok"));
    await stillServes(server, good, 2);
    await late.waitFor(() => late.messages("ok").length === 1, 5000, "late client's message");
    assert.equal(await clients(server), 2, "stuck handshakes are not clients");
    for (const conn of stuck) conn.close();
    await late.close();
    await good.close();
  });
});
