import assert from "node:assert/strict";
import { PatternPermissions } from "../../lib/auth/permissions.ts";
import { TopicPatterns } from "../../lib/auth/topic_patterns.ts";

Deno.test("PatternPermissions checks subscribe and publish against their own pattern lists", () => {
  const p = new PatternPermissions(
    "sub:ann",
    new TopicPatterns(["tabs.*"]),
    new TopicPatterns(["chat"]),
    { expiresAt: 1_000 },
  );
  assert.equal(p.identity, "sub:ann");
  assert.equal(p.canSubscribe("tabs.1"), true);
  assert.equal(p.canSubscribe("chat"), false);
  assert.equal(p.canPublish("chat"), true);
  assert.equal(p.canPublish("tabs.1"), false);
  assert.equal(p.expiresAt, 1_000);
  assert.equal(p.publishHelp, undefined);
});

Deno.test("PatternPermissions.open allows every topic and never expires", () => {
  const p = PatternPermissions.open("dev");
  assert.equal(p.canSubscribe("a"), true);
  assert.equal(p.canPublish("b.c"), true);
  assert.equal(p.expiresAt, undefined);
});

Deno.test("PatternPermissions.subscribeOnly subscribes everywhere, publishes nowhere and says why", () => {
  const p = PatternPermissions.subscribeOnly("addr:192.0.2.1", "connect with ?token=<t>");
  assert.equal(p.identity, "addr:192.0.2.1");
  assert.equal(p.canSubscribe("anything"), true);
  assert.equal(p.canPublish("anything"), false);
  assert.equal(p.publishHelp, "connect with ?token=<t>");
  assert.equal(p.expiresAt, undefined);
});
