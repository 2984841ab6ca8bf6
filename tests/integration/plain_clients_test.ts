/// <reference lib="dom" />
/**
 * Promise 1 over real sockets: WebSocket clients with no Floodgate code get
 * every message and stay connected. Three independent plain clients, each
 * subscribed with `?topics=feed` and never sending a frame: npm `ws`, a
 * Chromium page using a bare `new WebSocket()` (playwright-core, Debian's
 * chromium) and Python `websockets` (Debian's python3-websockets). 50 msg/s ×
 * 1 KiB for 40 s on the default settings, then one 424 KB message, which each
 * must get whole (one `message` frame, no `chunked.*`).
 *
 * Ignored, saying why, without /usr/bin/chromium or Python `websockets`.
 */
import assert from "node:assert/strict";
import NodeWebSocket from "ws";
import { chromiumAvailable, launchChromium } from "../../lib/load/browser.ts";
import { tabTree } from "../../lib/load/payloads.ts";
import { lineReader } from "../../bench/e2e/bench_util.ts";
import { publish, withServer, wsUrl } from "../_support/server.ts";

const SECONDS = 40;
const RATE = 50;
const PAD = "x".repeat(1000);
const PYTHON = "/usr/bin/python3";
const PYTHON_CLIENT = new URL("../_support/plain/python_client.py", import.meta.url).pathname;

function pythonWebsockets(): boolean {
  try {
    const out = new Deno.Command(PYTHON, { args: ["-c", "import websockets"] }).outputSync();
    return out.success;
  } catch {
    return false;
  }
}

const missing = [
  chromiumAvailable() ? "" : "no /usr/bin/chromium (apt-get install -y chromium)",
  pythonWebsockets() ? "" : "no Python websockets (apt-get install -y python3-websockets)",
].filter(Boolean);

/** What a plain client saw, however it was written. */
interface Seen {
  seqs: number[];
  gaps: number;
  types: string[];
  lastFrameBytes: number;
  open: boolean;
}

/** An npm `ws` client as a user writes it: connect, parse, count. Nothing else. */
function wsClient(url: string) {
  const seen: Seen = { seqs: [], gaps: 0, types: [], lastFrameBytes: 0, open: false };
  const ws = new NodeWebSocket(url);
  ws.on("message", (data: Buffer) => {
    const frame = JSON.parse(data.toString("utf8"));
    if (!seen.types.includes(frame.type)) seen.types.push(frame.type);
    for (const item of frame.type === "batch" ? frame.messages : [frame]) {
      if (item.type === "gap") seen.gaps++;
      if (item.type !== "message") continue;
      seen.seqs.push(item.seq);
      if (item.data?.last) seen.lastFrameBytes = data.length;
    }
  });
  return {
    ready: new Promise<void>((resolve) => ws.once("open", () => resolve())),
    /** Waits until `n` messages arrived (or 10 s), then closes. */
    async finish(n: number): Promise<Seen> {
      const deadline = Date.now() + 10_000;
      while (
        seen.seqs.length < n && ws.readyState === NodeWebSocket.OPEN && Date.now() < deadline
      ) {
        await new Promise((r) => setTimeout(r, 50));
      }
      seen.open = ws.readyState === NodeWebSocket.OPEN;
      ws.close();
      return seen;
    },
  };
}

Deno.test({
  name: `plain npm ws, Chromium and Python clients get ${
    SECONDS * RATE
  } messages in order and a 424 KB one whole, and stay connected${
    missing.length ? ` [ignored: ${missing.join("; ")}]` : ""
  }`,
  ignore: missing.length > 0,
  async fn() {
    await withServer({}, async (server) => {
      const url = wsUrl(server, "?topics=feed");
      const node = wsClient(url);

      const browser = await launchChromium();
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/healthz`);
      // The page's whole client: a bare WebSocket and an onmessage handler.
      await page.evaluate((url) =>
        new Promise<void>((resolve) => {
          const seen = { seqs: [] as number[], gaps: 0, types: [] as string[], lastFrameBytes: 0 };
          (globalThis as unknown as { seen: typeof seen; socket: WebSocket }).seen = seen;
          const socket = new WebSocket(url);
          (globalThis as unknown as { socket: WebSocket }).socket = socket;
          socket.onopen = () => resolve();
          socket.onmessage = (e) => {
            const frame = JSON.parse(e.data);
            if (!seen.types.includes(frame.type)) seen.types.push(frame.type);
            for (const item of frame.type === "batch" ? frame.messages : [frame]) {
              if (item.type === "gap") seen.gaps++;
              if (item.type !== "message") continue;
              seen.seqs.push(item.seq);
              if (item.data?.last) seen.lastFrameBytes = new TextEncoder().encode(e.data).length;
            }
          };
        }), url);

      const python = new Deno.Command(PYTHON, {
        args: [PYTHON_CLIENT, url],
        stdout: "piped",
        stderr: "inherit",
      }).spawn();
      const pythonLine = lineReader(python.stdout);
      assert.deepEqual(JSON.parse(await pythonLine()), { ready: true });
      await node.ready;

      const total = SECONDS * RATE;
      const started = performance.now();
      for (let i = 0; i < total; i++) {
        const wait = started + (i * 1000) / RATE - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await publish(server, { topic: "feed", data: { i, pad: PAD } });
      }
      const tree = tabTree(424_000);
      await publish(server, { topic: "feed", data: { last: true, tree } });
      const expected = Array.from({ length: total + 1 }, (_, i) => i + 1);

      const fromPython = JSON.parse(await pythonLine());
      await python.status;
      const fromPage = await page.waitForFunction(
        (n) => {
          const g = globalThis as unknown as { seen: Seen & { open: boolean }; socket: WebSocket };
          if (g.seen.seqs.length < n) return false;
          return { ...g.seen, open: g.socket.readyState === WebSocket.OPEN };
        },
        total + 1,
        { timeout: 10_000 },
      ).then((h) => h.jsonValue() as Promise<Seen>);
      await browser.close();
      const fromNode = await node.finish(total + 1);

      const treeBytes = new TextEncoder().encode(JSON.stringify(tree)).length;
      const clients: [string, Seen][] = [
        ["npm ws", fromNode],
        ["Chromium", fromPage],
        ["Python websockets", { ...fromPython, open: fromPython.openAtEnd }],
      ];
      for (const [name, c] of clients) {
        assert.deepEqual(c.seqs, expected, `${name}: every message, in order`);
        assert.equal(c.gaps, 0, `${name}: no gaps`);
        assert.ok(c.open, `${name}: still connected`);
        assert.ok(
          c.types.every((t) => !t.startsWith("chunked.") && t !== "ping"),
          `${name}: no frames a plain client would have to handle: ${c.types}`,
        );
        assert.ok(c.lastFrameBytes > treeBytes, `${name}: the 424 KB message came whole`);
      }
      const stats = await (await fetch(`${server.url}/stats`)).json();
      assert.equal(stats.server.counters.disconnectsByCode["4009"], undefined);
      assert.equal(stats.server.counters.disconnectsByCode["4008"], undefined);
    });
  },
});
