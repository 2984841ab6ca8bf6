import assert from "node:assert/strict";
import {
  defaultConfig,
  expectedPerClient,
  publishHeadersOf,
  publishTopicsOf,
  redactedConfig,
  topicsOf,
  validateConfig,
  wsUrlOf,
} from "../../lib/load/load_config.ts";

Deno.test("wsUrlOf and publishHeadersOf present the token to WebSocket and HTTP", () => {
  const config = { ...defaultConfig(), url: "https://push.example.com", token: "a.b c" };
  assert.equal(wsUrlOf(config), "wss://push.example.com/ws?token=a.b%20c");
  assert.deepEqual(publishHeadersOf(config), { Authorization: "Bearer a.b c" });
  assert.deepEqual(
    publishHeadersOf({ ...config, headers: { authorization: "Bearer other" } }),
    { authorization: "Bearer other" },
    "an explicit Authorization header wins",
  );
  assert.equal(wsUrlOf({ ...config, token: undefined }), "wss://push.example.com/ws");
});

Deno.test("redactedConfig hides the token and Authorization headers, nothing else", () => {
  const config = {
    ...defaultConfig(),
    token: "secret",
    headers: { Authorization: "Bearer secret", "X-Run": "7" },
  };
  const shown = redactedConfig(config);
  assert.equal(shown.token, "***");
  assert.deepEqual(shown.headers, { Authorization: "***", "X-Run": "7" });
  assert.equal(config.token, "secret", "the config itself is unchanged");
  assert.equal(redactedConfig(defaultConfig()).token, undefined);
});

Deno.test("topicsOf and expectedPerClient follow publishers, topics and large states", () => {
  const config = { ...defaultConfig(), topic: "t", publishers: 4, rate: 5, topics: 3 };
  assert.deepEqual(topicsOf(config), ["t-0", "t-1", "t-2"]);
  assert.deepEqual(topicsOf({ ...config, topics: 1 }), ["t"]);
  assert.deepEqual(topicsOf({ ...config, topics: 1, largeBytes: 424_000 }), ["t", "t.tabs"]);
  assert.deepEqual(publishTopicsOf({ ...config, largeBytes: 424_000 }), ["t-0", "t-1", "t-2"]);
  assert.equal(expectedPerClient(config), 20);
  assert.equal(expectedPerClient({ ...config, largeBytes: 424_000, largeRate: 2 }), 22);
});

Deno.test("validateConfig accepts the defaults and names what is wrong", () => {
  validateConfig(defaultConfig());
  assert.throws(
    () => validateConfig({ ...defaultConfig(), durationSeconds: 0 }),
    /--duration must be > 0 and ≤ 3600 seconds, got 0/,
  );
  assert.throws(
    () => validateConfig({ ...defaultConfig(), largeBytes: 10 }),
    /--large-bytes must be 0 or ≥ 1KiB, got 10/,
  );
});
