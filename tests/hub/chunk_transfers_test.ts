import assert from "node:assert/strict";
import { ChunkTransfers } from "../../lib/hub/chunk_transfers.ts";
import { builtFrame, FrameBuilder } from "../../lib/hub/frame_builder.ts";
import { jsonCodec } from "../../lib/protocol/codec.ts";
import type { ServerFrame } from "../../lib/protocol/frames.ts";

const decodeFrameText = (text: string | Uint8Array): ServerFrame =>
  JSON.parse(typeof text === "string" ? text : new TextDecoder().decode(text));

function frameOf(topic: string, bytes: number) {
  const text = JSON.stringify({ type: "message", topic, seq: 1, ts: 0, data: "x".repeat(bytes) });
  return builtFrame(text, text.length, 1);
}

Deno.test("ChunkTransfers sends start with the first piece and end with the last, one call per chunk", () => {
  const transfers = new ChunkTransfers(
    new FrameBuilder({ codec: jsonCodec(), chunkBytes: 1024 }),
    900,
  );
  transfers.start(frameOf("t", 5000), "t");
  const calls: ServerFrame[][] = [];
  let done: number | undefined;
  while (done === undefined) {
    const frames: ServerFrame[] = [];
    done = transfers.writeNext((f) => frames.push(decodeFrameText(f.text)));
    calls.push(frames);
  }
  assert.deepEqual(calls[0].map((f) => f.type), ["chunked.start", "chunked.data"]);
  assert.deepEqual(calls.at(-1)!.map((f) => f.type), ["chunked.data", "chunked.end"]);
  assert.equal(done, calls.flat().length);
  assert.equal(transfers.windowBytes, 2048);
});

Deno.test("ChunkTransfers lets other topics pass only while one single-message transfer is under way", () => {
  const transfers = new ChunkTransfers(
    new FrameBuilder({ codec: jsonCodec(), chunkBytes: 1024 }),
    900,
  );
  assert.equal(transfers.passable, undefined);
  transfers.start(frameOf("t", 5000), "t");
  assert.deepEqual([...transfers.passable!.topics], ["t"], "the topic's own messages wait");
  assert.deepEqual(transfers.current, { sent: 0, total: transfers.current!.total });
  transfers.start(frameOf("u", 5000), undefined);
  assert.equal(transfers.passable, undefined, "a second transfer holds everything back");
});
