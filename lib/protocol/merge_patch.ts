/**
 * JSON Merge Patch (RFC 7396), applied without changing its inputs.
 *
 * Written here rather than taken from `npm:json-merge-patch` because that
 * package changes the target in place (a server must not change state it
 * already handed out with an older seq) and stops at a `__proto__` key,
 * silently skipping the rest of the patch.
 *
 * @module
 */
import { MAX_DATA_DEPTH } from "./json_depth.ts";

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Applies `patch` to `target` as RFC 7396 says: an object patch merges member
 * by member (`null` removes a member, objects merge recursively, anything else
 * replaces); any other patch replaces the target. Returns a new value; objects
 * on the patched paths are copied, untouched members are shared with `target`.
 *
 * A patch nesting objects more than {@linkcode MAX_DATA_DEPTH} (64) levels deep
 * is refused (publishes are validated against the same limit), so the
 * recursion never overflows the stack, whatever the input.
 *
 * @throws {RangeError} "The merge patch is nested more than 64 levels deep" for a deeper patch;
 * nothing is changed then.
 *
 * @example
 * ```ts
 * import { applyMergePatch } from "./merge_patch.ts";
 * const before = { title: "a", tags: ["x"], author: { name: "n", email: "e" } };
 * const after = applyMergePatch(before, { title: "b", author: { email: null } });
 * // { title: "b", tags: ["x"], author: { name: "n" } }; `before` is unchanged
 * ```
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  return merge(target, patch, MAX_DATA_DEPTH);
}

function merge(target: unknown, patch: unknown, levelsLeft: number): unknown {
  if (!isObject(patch)) return patch;
  if (levelsLeft <= 0) {
    throw new RangeError(`The merge patch is nested more than ${MAX_DATA_DEPTH} levels deep`);
  }
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) {
      delete out[key];
    } else if (key === "__proto__") {
      // A JSON member named "__proto__" is data: define it, never set the prototype.
      Object.defineProperty(out, key, {
        value: merge(Object.hasOwn(out, key) ? out[key] : undefined, value, levelsLeft - 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[key] = merge(out[key], value, levelsLeft - 1);
    }
  }
  return out;
}
