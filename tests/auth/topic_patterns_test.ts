import assert from "node:assert/strict";
import { TopicPatterns } from "../../lib/auth/topic_patterns.ts";

Deno.test("TopicPatterns matches exact names, prefix* wildcards and *", () => {
  const p = new TopicPatterns(["sessions", "tabs.*"]);
  assert.equal(p.matches("sessions"), true);
  assert.equal(p.matches("sessions2"), false);
  assert.equal(p.matches("tabs.1"), true);
  assert.equal(p.matches("tabs.1.pane"), true);
  assert.equal(p.matches("tabs"), false);
  assert.equal(new TopicPatterns(["*"]).matches("anything"), true);
});

Deno.test("TopicPatterns allows nothing when the claim is absent", () => {
  assert.equal(new TopicPatterns(undefined).matches("sessions"), false);
});

Deno.test("TopicPatterns rejects a claim that is not an array of strings with a TypeError", () => {
  assert.throws(() => new TopicPatterns("sessions"), TypeError);
  assert.throws(() => new TopicPatterns([1]), TypeError);
});
