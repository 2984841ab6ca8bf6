import assert from "node:assert/strict";
import { PatternPermissions } from "../../lib/auth/permissions.ts";
import { publishRefusal } from "../../lib/auth/publish_check.ts";
import { TopicPatterns } from "../../lib/auth/topic_patterns.ts";

Deno.test("publishRefusal lets a holder publish to the topics its permissions allow", () => {
  const bot = new PatternPermissions("sub:bot", TopicPatterns.all(), new TopicPatterns(["chat.*"]));
  assert.equal(publishRefusal(bot, "chat.room1"), undefined);
  assert.equal(publishRefusal(PatternPermissions.open("dev"), "sessions"), undefined);
});

Deno.test("publishRefusal refuses system topics to everyone, echoing the frame id", () => {
  const refusal = publishRefusal(PatternPermissions.open("publish-token"), "$metrics", "p1");
  assert.equal(refusal?.code, "forbidden");
  assert.equal(refusal?.id, "p1");
  assert.match(refusal?.message ?? "", /system topic/);
});

Deno.test("publishRefusal says the token does not allow a topic outside its claim", () => {
  const bot = new PatternPermissions("sub:bot", TopicPatterns.all(), new TopicPatterns(["chat.*"]));
  const refusal = publishRefusal(bot, "sessions", 3);
  assert.equal(refusal?.code, "forbidden");
  assert.equal(refusal?.id, 3);
  assert.equal(refusal?.message, 'Your token does not allow publishing to "sessions"');
});

Deno.test("publishRefusal tells an anonymous subscriber what it needs to publish", () => {
  const anonymous = PatternPermissions.subscribeOnly("addr:192.0.2.1", "connect with ?token=<t>");
  assert.equal(
    publishRefusal(anonymous, "sessions")?.message,
    'This connection may not publish to "sessions": connect with ?token=<t>',
  );
});
