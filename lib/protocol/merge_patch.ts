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

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Applies `patch` to `target` as RFC 7396 says: an object patch merges member
 * by member (`null` removes a member, objects merge recursively, anything else
 * replaces); any other patch replaces the target. Returns a new value; objects
 * on the patched paths are copied, untouched members are shared with `target`.
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
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) {
      delete out[key];
    } else if (key === "__proto__") {
      // A JSON member named "__proto__" is data: define it, never set the prototype.
      Object.defineProperty(out, key, {
        value: applyMergePatch(Object.hasOwn(out, key) ? out[key] : undefined, value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      out[key] = applyMergePatch(out[key], value);
    }
  }
  return out;
}
