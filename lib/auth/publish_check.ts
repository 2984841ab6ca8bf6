import { ProtocolError } from "../protocol/protocol_error.ts";
import { isSystemTopic } from "../protocol/topic_name.ts";
import type { Permissions } from "./permissions.ts";

/**
 * Why `permissions` may not publish to `topic`, or undefined when it may. The
 * same rule for HTTP and WebSocket publishers: system topics (`$…`) belong to
 * the server, and tokens list the topics they may publish to.
 *
 * @example
 * ```ts
 * import { PatternPermissions } from "./permissions.ts";
 * import { publishRefusal } from "./publish_check.ts";
 * publishRefusal(PatternPermissions.open("dev"), "$metrics")?.code; // "forbidden"
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
    return new ProtocolError("forbidden", `Your token does not allow publishing to "${topic}"`, {
      id,
    });
  }
  return undefined;
}
