/// <reference lib="dom" />
/**
 * permessage-deflate with a real browser: Debian's Chromium (driven by
 * playwright-core) offers the extension on every connection; with
 * `--compression deflate` the handshake accepts it, frames arrive compressed,
 * and the page decodes them, chunked ones included. Ignored, saying why,
 * without /usr/bin/chromium.
 */
import assert from "node:assert/strict";
import { type Browser, chromiumAvailable, launchChromium } from "../../lib/load/browser.ts";
import { sessionUpdate, tabTree } from "../../lib/load/payloads.ts";
import type { FloodgateServer } from "../../lib/server.ts";
import { metricValue, publish, withServer } from "../_support/server.ts";

const HAVE_CHROMIUM = chromiumAvailable();

/**
 * Registers a test with Chromium against a `--compression deflate` server;
 * ignored, saying why, without Chromium.
 */
function deflateBrowserTest(
  name: string,
  fn: (server: FloodgateServer, browser: Browser) => Promise<void>,
): void {
  Deno.test({
    name: `${name}${
      HAVE_CHROMIUM ? "" : " [ignored: no /usr/bin/chromium; apt-get install -y chromium]"
    }`,
    ignore: !HAVE_CHROMIUM,
    async fn() {
      await withServer({ compression: "deflate", heartbeatMs: 60_000 }, async (server) => {
        const browser = await launchChromium();
        try {
          await fn(server, browser);
        } finally {
          await browser.close();
        }
      });
    },
  });
}

deflateBrowserTest(
  "Chromium negotiates permessage-deflate and decodes compressed, chunked frames",
  async (server, browser) => {
    const page = await browser.context.newPage();
    const cdp = await browser.context.newCDPSession(page);
    await cdp.send("Network.enable");
    const handshakes: Record<string, string>[] = [];
    cdp.on("Network.webSocketHandshakeResponseReceived", (e) => {
      handshakes.push(e.response.headers as Record<string, string>);
    });
    await page.goto(`${server.url}/healthz`);
    const ws = `${server.url.replace("http", "ws")}/ws?topics=tabs`;
    // The page speaks the protocol: it keeps what it decoded (chunked frames joined, batches
    // unpacked) and pongs.
    await page.evaluate((url) =>
      new Promise<void>((resolve) => {
        const got: unknown[] = [];
        (globalThis as unknown as { got: unknown[] }).got = got;
        const parts: string[] = [];
        const socket = new WebSocket(url, ["floodgate.v1.json"]);
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
    assert.ok(
      (await metricValue(server, "floodgate_compressed_frames_sent_total")) >= 5,
      "chunks and update compressed",
    );
    const raw = await metricValue(server, "floodgate_compressed_frames_raw_bytes_total");
    const wire = await metricValue(server, "floodgate_compressed_frames_wire_bytes_total");
    assert.ok(raw > 4 * wire, `${raw} B compressed to ${wire} B`);
  },
);

deflateBrowserTest(
  "the bundled SDK in Chromium reassembles compressed 424 KB chunks and applies patches, in both codecs",
  async (server, browser) => {
    const page = await browser.context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(`${server.url}/healthz`);
    // One SDK client per codec, from the /client.js bundle; each keeps the "tabs" state.
    await page.evaluate(async (base) => {
      const { connect } = await import(`${base}/client.js`);
      (globalThis as unknown as { fgs: unknown[] }).fgs = ["json", "msgpack"].map((codec) =>
        connect(`${base.replace("http", "ws")}/ws`, { codec, topics: ["tabs"] })
      );
    }, server.url);
    type Fg = {
      codec: string;
      lastSeq(t: string): number | undefined;
      state(t: string): { seq: number; toObject(): unknown };
      stats: { chunkedFrames: number };
    };
    await page.waitForFunction(() =>
      (globalThis as unknown as { fgs: Fg[] }).fgs.every((fg) => fg.lastSeq("tabs") === 0)
    );
    const tree = tabTree(424_000);
    await publish(server, [
      { topic: "tabs", key: "w1", data: tree },
      { topic: "tabs", key: "w1", patch: { version: 2, title: "patched" } },
      { topic: "tabs", key: "w2", data: sessionUpdate(1) },
      { topic: "tabs", key: "w2", delete: true },
    ]);
    await page.waitForFunction(() =>
      (globalThis as unknown as { fgs: Fg[] }).fgs.every((fg) => fg.state("tabs").seq === 4)
    );
    const clients = await page.evaluate(() =>
      (globalThis as unknown as { fgs: Fg[] }).fgs.map((fg) => ({
        codec: fg.codec,
        chunked: fg.stats.chunkedFrames,
        state: fg.state("tabs").toObject(),
      }))
    );
    const expected = (await (await fetch(`${server.url}/topics/tabs/state`)).json()).state;
    assert.deepEqual(expected, { w1: { ...tree, version: 2, title: "patched" } });
    assert.deepEqual(clients.map((c) => c.codec), ["json", "msgpack"]);
    for (const c of clients) {
      assert.equal(c.chunked, 1, `${c.codec}: the 424 KB value came in chunks`);
      assert.deepEqual(c.state, expected, `${c.codec}: the store equals the server's state`);
    }
    const raw = await metricValue(server, "floodgate_compressed_frames_raw_bytes_total");
    const wire = await metricValue(server, "floodgate_compressed_frames_wire_bytes_total");
    assert.ok(raw > 2 * wire, `the chunks went out compressed: ${raw} B as ${wire} B`);
    assert.deepEqual(errors, [], "no script errors");
  },
);
