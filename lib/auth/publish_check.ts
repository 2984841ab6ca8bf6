/**
 * The one publish rule, for HTTP publishers and WebSocket `publish` frames
 * alike. Who may publish where is in the {@linkcode Permissions} the
 * authenticator handed out; this only asks them.
 *
 * @module
 */
import { ProtocolError } from "../protocol/protocol_error.ts";
import { isSystemTopic } from "../protocol/topic_name.ts";
import type { Permissions } from "./permissions.ts";

/**
 * Why `permissions` may not publish to `topic`, or undefined when it may. The
 * same rule for HTTP and WebSocket publishers: system topics (`$…`) belong to
 * the server, and tokens list the topics they may publish to.
 *
 * @param id the frame's id, echoed in the error so the client can match it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { PatternPermissions } from "./permissions.ts";
 * import { publishRefusal } from "./publish_check.ts";
 *
 * const dev = PatternPermissions.open("dev");
 * assert.equal(publishRefusal(dev, "sessions"), undefined);
 * assert.equal(publishRefusal(dev, "$metrics")?.code, "forbidden");
 * const anonymous = PatternPermissions.subscribeOnly("addr:192.0.2.1", "connect with ?token=<t>");
 * assert.match(publishRefusal(anonymous, "sessions")?.message ?? "", /\?token=<t>/);
 * ```
 */
export function publishRefusal(
  permissions: Permissions,
  topic: string,
  id?: string | number,
): ProtocolError | undefined {
  if (isSystemTopic(topic)) {
    return new ProtocolError(
      "forbidden",
      `Topic "${topic}" is a system topic; only the server publishes to it`,
      { id },
    );
  }
  if (!permissions.canPublish(topic)) {
    const message = permissions.publishHelp === undefined
      ? `Your token does not allow publishing to "${topic}"`
      : `This connection may not publish to "${topic}": ${permissions.publishHelp}`;
    return new ProtocolError("forbidden", message, { id });
  }
  return undefined;
}
