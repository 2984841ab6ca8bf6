/** Both engines in one process: the ws engine must not replace the platform's Request/Response. */
import assert from "node:assert/strict";
import { withServer } from "../_support/server.ts";

Deno.test("a native server still answers after a ws-engine server ran in the same process", async () => {
  await withServer({ compression: "deflate" }, async (server) => {
    assert.equal((await (await fetch(`${server.url}/healthz`)).json()).engine, "ws+deflate");
  });
  await withServer({ engine: "deno" }, async (server) => {
    const res = await fetch(`${server.url}/healthz`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).engine, "deno");
  });
});
