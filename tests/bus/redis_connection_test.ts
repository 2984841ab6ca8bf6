import assert from "node:assert/strict";
import { redactUrl } from "../../lib/bus/redis_connection.ts";

Deno.test("redactUrl hides the password of a Redis URL and keeps the rest", () => {
  assert.equal(redactUrl("redis://:hunter2@cache:6379/1"), "redis://:***@cache:6379/1");
  assert.equal(redactUrl("rediss://user:pw@cache:6380"), "rediss://user:***@cache:6380");
  assert.equal(redactUrl("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
  assert.equal(redactUrl("not a url"), "not a url");
});
