import assert from "node:assert/strict";
import { withServer } from "../_support/server.ts";

Deno.test("GET / serves the dashboard page, which loads /dashboard.js", async () => {
  await withServer({}, async (server) => {
    const res = await fetch(`${server.url}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/html; charset=utf-8");
    const html = await res.text();
    assert.match(html, /<script type="module" src="dashboard.js"><\/script>/);
    const js = await fetch(`${server.url}/dashboard.js`);
    assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.match(await js.text(), /floodgateDashboard/);
  });
});

Deno.test("GET /client.js serves the SDK as one ES module", async () => {
  await withServer({}, async (server) => {
    const res = await fetch(`${server.url}/client.js`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
    assert.equal(res.headers.get("cache-control"), "no-cache");
    assert.equal(res.headers.get("access-control-allow-origin"), "*", "importable from any page");
    const code = await res.text();
    assert.match(code, /export\{[^}]*\bconnect\b/);
    assert.doesNotMatch(code, /^\s*import\b/m, "self-contained: no imports to resolve");
  });
});
