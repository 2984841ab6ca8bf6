/**
 * The client SDK against the real server's large-payload features (issue 4),
 * for both codecs and both engines: the native one, and the `npm:ws` one of
 * `--compression deflate`, reached with an `npm:ws` client socket so that
 * permessage-deflate is really negotiated and every large frame arrives
 * compressed. A 424 KB value is reassembled from chunks (as a message and as a
 * snapshot), a small message published during its transfer is handed over
 * first, and merge patches and deletes keep the local store equal to
 * `GET /topics/:topic/state`.
 */
import assert from "node:assert/strict";
// @ts-types="npm:@types/ws@^8.18.1"
import { WebSocket as NodeWebSocket } from "ws";
import { connect, type ConnectOptions, type FloodgateClient } from "../../lib/client/client.ts";
import type { Message } from "../../lib/client/events.ts";
import type { Settings } from "../../lib/config/settings.ts";
import { tabTree } from "../../lib/load/payloads.ts";
import type { FloodgateServer } from "../../lib/server.ts";
import { metricValue, publish, withServer, wsUrl } from "../_support/server.ts";
import { waitUntil } from "../_support/wait.ts";

const KiB = 1024;
const quiet = { heartbeatMs: 60_000, heartbeatTimeoutMs: 60_000 };

/** A server engine and the client socket that goes with it. */
interface Engine {
  name: string;
  settings: Partial<Settings>;
  /** Options for `connect` and, after the test, a check that the engine did its part. */
  client(): { options: ConnectOptions; verify(server: FloodgateServer): Promise<void> };
}

const native: Engine = {
  name: "native engine",
  settings: { engine: "deno" },
  client: () => ({ options: {}, verify: () => Promise.resolve() }),
};

const deflate: Engine = {
  name: "ws engine, permessage-deflate",
  settings: { compression: "deflate" },
  client() {
    const sockets: NodeWebSocket[] = [];
    // npm:ws offers permessage-deflate, as browsers do; Deno's own WebSocket does not.
    class DeflateWebSocket extends NodeWebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { perMessageDeflate: true });
        sockets.push(this);
      }
    }
    return {
      options: { WebSocket: DeflateWebSocket as unknown as typeof WebSocket },
      async verify(server) {
        assert.ok(sockets.length > 0, "the SDK used the npm:ws socket");
        for (const s of sockets) assert.match(s.extensions, /permessage-deflate/);
        const raw = await metricValue(server, "floodgate_compressed_frames_raw_bytes_total");
        const wire = await metricValue(server, "floodgate_compressed_frames_wire_bytes_total");
        assert.ok(raw > 2 * wire, `frames went out compressed: ${raw} B as ${wire} B`);
      },
    };
  },
};

async function serverState(server: FloodgateServer, topic: string) {
  return await (await fetch(`${server.url}/topics/${topic}/state`)).json();
}

/** Opens a client subscribed to `topics`, resolving once every subscription is confirmed. */
type Open = (topics: string[], options?: ConnectOptions) => Promise<FloodgateClient>;

/**
 * Runs `fn` against a fresh server with a function that opens clients; they
 * are closed afterwards, also when `fn` fails (an open client would keep
 * reconnecting to the stopped server).
 */
async function withClients(
  settings: Partial<Settings>,
  fn: (server: FloodgateServer, open: Open) => Promise<void>,
): Promise<void> {
  await withServer(settings, async (server) => {
    const clients: FloodgateClient[] = [];
    const open: Open = async (topics, options = {}) => {
      const fg = connect(wsUrl(server), { ...options, topics });
      clients.push(fg);
      await waitUntil(() => topics.every((t) => fg.lastSeq(t) !== undefined), 5000, "subscribed");
      return fg;
    };
    try {
      await fn(server, open);
    } finally {
      await Promise.all(clients.map((fg) => fg.close()));
    }
  });
}

for (const engine of [native, deflate]) {
  for (const codec of ["json", "msgpack"] as const) {
    const where = `(${codec}, ${engine.name})`;

    Deno.test(`the SDK ${where} reassembles a 424 KB message; a small one sent during its transfer comes first`, async () => {
      // Small chunks make the transfer take hundreds of frames, each confirmed by a pong.
      const settings = { ...quiet, ...engine.settings, chunkBytes: 2 * KiB };
      await withClients(settings, async (server, open) => {
        const { options, verify } = engine.client();
        const fg = await open(["tabs", "terminal"], { ...options, codec });
        assert.equal(fg.codec, codec);
        const order: Message[] = [];
        fg.on("message", (m) => order.push(m));
        const tree = tabTree(424_000);
        const framesBefore = fg.stats.frames;
        await publish(server, { topic: "tabs", key: "w1", data: tree });
        await waitUntil(() => fg.stats.frames >= framesBefore + 4, 5000, "the first chunks");
        assert.equal(order.length, 0, "the large message is still in transfer");
        await publish(server, { topic: "terminal", data: "$ ls" });
        await waitUntil(() => order.length === 2, 20_000, "both messages");

        assert.deepEqual(order.map((m) => m.topic), ["terminal", "tabs"]);
        assert.deepEqual(order[1].data, tree);
        assert.deepEqual(fg.state("tabs").get("w1"), tree);
        assert.equal(fg.stats.chunkedFrames, 1);
        assert.ok(
          fg.stats.frames - framesBefore > 200,
          `${fg.stats.frames - framesBefore} frames: the message came in 2 KiB pieces`,
        );
        await verify(server);
      });
    });

    Deno.test(`the SDK ${where} keeps merge patches and deletes equal to GET /topics/:topic/state`, async () => {
      await withClients({ ...quiet, ...engine.settings }, async (server, open) => {
        const { options, verify } = engine.client();
        const fg = await open(["tabs"], { ...options, codec });
        const tabs = fg.state("tabs");
        const tree = tabTree(424_000);
        await publish(server, [
          { topic: "tabs", key: "w1", data: tree },
          { topic: "tabs", key: "w1", patch: { version: 7, pinned: true } },
          { topic: "tabs", key: "w1", patch: { pinned: null, focus: { tab: "tab-3" } } },
          { topic: "tabs", key: "w2", data: { title: "gone soon" } },
          { topic: "tabs", key: "w3", patch: { title: "made by a patch" } },
          { topic: "tabs", key: "w2", delete: true },
        ]);
        await waitUntil(() => tabs.seq === 6, 10_000, "six updates");
        assert.deepEqual(tabs.get("w1"), { ...tree, version: 7, focus: { tab: "tab-3" } });
        assert.deepEqual(tabs.get("w3"), { title: "made by a patch" });
        assert.equal(tabs.has("w2"), false);
        const fromServer = await serverState(server, "tabs");
        assert.equal(fromServer.seq, tabs.seq);
        assert.deepEqual(tabs.toObject(), fromServer.state);
        assert.equal(fg.stats.chunkedFrames, 1, "the 424 KB value came in chunks");

        // A client joining now gets the merged state as one chunked snapshot.
        const late = await open(["tabs"], { ...options, codec });
        assert.equal(late.stats.chunkedFrames, 1, "the snapshot came in chunks");
        assert.equal(late.state("tabs").seq, 6);
        assert.deepEqual(late.state("tabs").toObject(), fromServer.state);
        await verify(server);
      });
    });
  }
}

Deno.test("a chunked message over the SDK's limit is discarded, reported, and its key refetched", async () => {
  await withClients({ ...quiet }, async (server, open) => {
    const fg = await open(["tabs"], { chunks: { maxMessageBytes: 100 * KiB } });
    const errors: string[] = [];
    const gaps: [number, number, string, boolean][] = [];
    fg.on("error", (e) => errors.push(e.code));
    fg.on("gap", (g) => gaps.push([g.fromSeq, g.toSeq, g.reason, g.refetch]));
    const tabs = fg.state("tabs");
    const tree = tabTree(424_000);
    await publish(server, { topic: "tabs", key: "w0", data: "small" });
    await waitUntil(() => tabs.seq === 1, 5000, "the first message");
    await publish(server, { topic: "tabs", key: "w1", data: tree });
    await publish(server, { topic: "tabs", key: "w2", data: "after" });
    await waitUntil(() => tabs.has("w1") && tabs.has("w2"), 10_000, "the refetched state");
    assert.deepEqual(errors, ["chunk_too_large"]);
    assert.deepEqual(gaps, [[2, 2, "missing", true]]);
    assert.deepEqual(tabs.get("w1"), tree, "the refetch brought the value the chunks did not");
    assert.deepEqual(tabs.toObject(), (await serverState(server, "tabs")).state);
  });
});
