import assert from "node:assert/strict";
import { readBodyText } from "../../lib/http/read_body.ts";

function chunked(parts: (string | Uint8Array)[]): Request {
  const enc = new TextEncoder();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of parts) controller.enqueue(typeof p === "string" ? enc.encode(p) : p);
      controller.close();
    },
  });
  return new Request("http://x/", { method: "POST", body });
}

Deno.test("readBodyText refuses a declared length over the limit without reading it", async () => {
  const req = new Request("http://x/", {
    method: "POST",
    body: "x".repeat(10),
    headers: { "content-length": "10" },
  });
  assert.equal(await readBodyText(req, 9), undefined);
  assert.equal(await readBodyText(new Request("http://x/", { method: "POST", body: "é" }), 9), "é");
});

Deno.test("readBodyText counts a body of no declared length as it arrives, UTF-8 split across chunks", async () => {
  assert.equal(await readBodyText(chunked(['{"a":', '"h', 'é"}']), 100), '{"a":"hé"}');
  assert.equal(await readBodyText(chunked(["x".repeat(60), "y".repeat(60)]), 100), undefined);
});

Deno.test("readBodyText reads node:http's IncomingMessage (env.incoming) instead of the adapted stream", async () => {
  const parts = ['{"topic":', '"t"}'].map((p) => new TextEncoder().encode(p));
  const incoming = {
    async *[Symbol.asyncIterator]() {
      yield* parts;
    },
  };
  // The web request's own body would say something else: the IncomingMessage is what is read.
  const req = new Request("http://x/", { method: "POST", body: "ignored" });
  assert.equal(await readBodyText(req, 100, { incoming }), '{"topic":"t"}');
  assert.equal(await readBodyText(req, 5, { incoming }), undefined);
});
