/**
 * Merging a keyed patch into a key's state on behalf of a bus, before the
 * publish gets its seq: a patch that cannot be applied refuses the publish,
 * it never leaves a seq taken and nothing delivered.
 *
 * @module
 */
import { applyMergePatch } from "../protocol/merge_patch.ts";
import { ProtocolError } from "../protocol/protocol_error.ts";
import type { PublishRequest } from "./bus.ts";

/**
 * `applyMergePatch(current, req.data)`, with a failure to apply it (a patch
 * nested too deeply) turned into a refusal the publisher can act on.
 *
 * @throws {ProtocolError} `invalid_frame` "Nothing was published: the patch to key … could not be
 * applied (…)" when the patch cannot be applied.
 *
 * @example
 * ```ts
 * import { mergeForPublish } from "./merge_state.ts";
 * mergeForPublish({ topic: "t", key: "k", op: "patch", data: { b: 2 }, ts: 0 }, { a: 1 });
 * // { a: 1, b: 2 }
 * ```
 */
export function mergeForPublish(req: PublishRequest, current: unknown): unknown {
  try {
    return applyMergePatch(current, req.data);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    throw new ProtocolError(
      "invalid_frame",
      `Nothing was published: the patch to key "${req.key}" of "${req.topic}" could not be applied (${err.message})`,
    );
  }
}
