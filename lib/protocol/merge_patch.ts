/**
 * JSON Merge Patch (RFC 7396), applied without mutating its inputs: unchanged
 * branches of the target are shared with the result, changed ones are new
 * objects, so a store can tell what changed by comparing references.
 *
 * @module
 */

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Applies `patch` to `target` as RFC 7396 section 2 says: an object patch
 * merges member by member, a `null` member removes that member, and any other
 * patch (array, string, number, `null`…) replaces the target whole.
 *
 * Neither argument is modified; the result shares unchanged sub-objects with
 * `target`.
 *
 * @example
 * ```ts
 * import { applyMergePatch } from "./merge_patch.ts";
 * applyMergePatch({ status: "busy", cpu: 3, tags: ["a"] }, { cpu: null, status: "idle" });
 * // { status: "idle", tags: ["a"] }
 * ```
 */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const base: JsonObject = isObject(target) ? target : {};
  const result: JsonObject = { ...base };
  for (const [name, value] of Object.entries(patch)) {
    if (value === null) delete result[name];
    else result[name] = applyMergePatch(base[name], value);
  }
  return result;
}
