/**
 * JSON vs MessagePack: encode and decode cost of a `message` frame, for a
 * ~2 KB session update and a 424 KB state tree; sizes are printed once.
 *
 * ```sh
 * deno bench -A bench/protocol/codec_bench.ts
 * ```
 */
import { decode } from "@msgpack/msgpack";
import { sessionUpdate, tabTree } from "../../lib/load/payloads.ts";
import { jsonCodec, msgpackCodec } from "../../lib/protocol/codec.ts";

const json = jsonCodec();
const msgpack = msgpackCodec();
const payloads = [
  ["2 KB session update", sessionUpdate(7)],
  ["424 KB state tree", tabTree(424_000)],
] as const;

for (const [name, data] of payloads) {
  const m = { topic: "tabs", seq: 12345, key: "window-1", ts: 1745000000000.125, data };
  const text = json.encodeMessage(m) as string;
  const bytes = msgpack.encodeMessage(m) as Uint8Array;
  console.log(
    `${name}: JSON ${json.byteLength(text)} B, MessagePack ${bytes.length} B (${
      (bytes.length / json.byteLength(text) * 100).toFixed(0)
    } %)`,
  );
  Deno.bench(`encode ${name}: JSON`, { group: `encode ${name}`, baseline: true }, () => {
    json.encodeMessage(m);
  });
  Deno.bench(`encode ${name}: MessagePack`, { group: `encode ${name}` }, () => {
    msgpack.encodeMessage(m);
  });
  Deno.bench(`decode ${name}: JSON`, { group: `decode ${name}`, baseline: true }, () => {
    JSON.parse(text);
  });
  Deno.bench(`decode ${name}: MessagePack`, { group: `decode ${name}` }, () => {
    decode(bytes);
  });
}
