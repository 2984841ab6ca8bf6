/// <reference lib="dom" />
/**
 * permessage-deflate with a real browser: Debian's Chromium (driven by
 * playwright-core) offers the extension on every connection; with
 * `--compression deflate` the handshake accepts it, frames arrive compressed,
 * and the page decodes them, chunked ones included. Ignored, saying why,
 * without /usr/bin/chromium.
 */
import assert from "node:assert/strict";
import { chromiumAvailable, launchChromium } from "../../lib/load/browser.ts";
import { sessionUpdate, tabTree } from "../../lib/load/payloads.ts";
import { publish, withServer } from "../_support/server.ts";

const HAVE_CHROMIUM = chromiumAvailable();

Deno.test({
  name: `Chromium negotiates permessage-deflate and decodes compressed, chunked frames${
    HAVE_CHROMIUM ? "" : " [ignored: no /usr/bin/chromium; apt-get install -y chromium]"
  }`,
  ignore: !HAVE_CHROMIUM,
  async fn() {
    await withServer({ compression: "deflate", heartbeatMs: 60_000 }, async (server) => {
      const browser = await launchChromium();
      try {
        const page = await browser.context.newPage();
        const cdp = await browser.context.newCDPSession(page);
        await cdp.send("Network.enable");
        const handshakes: Record<string, string>[] = [];
        cdp.on("Network.webSocketHandshakeResponseReceived", (e) => {
          handshakes.push(e.response.headers as Record<string, string>);
        });
        await page.goto(`${server.url}/healthz`);
        const ws = `${server.url.replace("http", "ws")}/ws?topics=tabs`;
        // The page keeps what it decoded (chunked frames joined, batches unpacked) and pongs.
        await page.evaluate((url) =>
          new Promise<void>((resolve) => {
            const got: unknown[] = [];
            (globalThis as unknown as { got: unknown[] }).got = got;
            const parts: string[] = [];
            const socket = new WebSocket(url);
            socket.onmessage = (e) => {
              let frame = JSON.parse(e.data);
              if (frame.type === "ping") {
                socket.send(JSON.stringify({ type: "pong", id: frame.id }));
              }
              if (frame.type === "chunked.data") parts.push(frame.data);
              if (frame.type === "chunked.end") frame = JSON.parse(parts.splice(0).join(""));
              got.push(...(frame.type === "batch" ? frame.messages : [frame]));
              if (frame.type === "subscribed") resolve();
            };
          }), ws);
        const tree = tabTree(200_000);
        const update = sessionUpdate(3);
        await publish(server, { topic: "tabs", key: "tree", data: tree });
        await publish(server, { topic: "tabs", key: "s-3", data: update });
        await page.waitForFunction(() =>
          (globalThis as unknown as { got: { type: string }[] }).got
            .filter((f) => f.type === "message").length === 2
        );
        const messages = await page.evaluate(() =>
          (globalThis as unknown as { got: { type: string; data: unknown }[] }).got
            .filter((f) => f.type === "message").map((f) => f.data)
        );
        assert.deepEqual(messages, [tree, update]);

        const extensions = Object.entries(handshakes[0] ?? {})
          .find(([k]) => k.toLowerCase() === "sec-websocket-extensions")?.[1] ?? "";
        assert.match(extensions, /permessage-deflate/);
        assert.match(extensions, /server_no_context_takeover/);
        const metrics = await (await fetch(`${server.url}/metrics`)).text();
        const value = (name: string) =>
          Number(new RegExp(`^${name} (\\S+)$`, "m").exec(metrics)?.[1]);
        assert.ok(
          value("floodgate_compressed_frames_sent_total") >= 5,
          "chunks and update compressed",
        );
        const raw = value("floodgate_compressed_frames_raw_bytes_total");
        const wire = value("floodgate_compressed_frames_wire_bytes_total");
        assert.ok(raw > 4 * wire, `${raw} B compressed to ${wire} B`);
      } finally {
        await browser.close();
      }
    });
  },
});
