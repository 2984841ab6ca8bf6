/**
 * How deeply a published value may nest. A value nested thousands of levels
 * deep parses fine but overflows the stack of anything recursive that touches
 * it later (merging a patch, encoding, a client's own code), so publishes are
 * refused past {@linkcode MAX_DATA_DEPTH} levels when they are validated,
 * before the bus gives them a seq.
 *
 * @module
 */

/**
 * Most levels of nested objects and arrays in a published `data` or `patch`:
 * `1` has none, `{}` and `[]` one, `{"a": [1]}` two.
 *
 * @default {64}
 */
export const MAX_DATA_DEPTH = 64;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

/**
 * True when `value` nests objects and arrays more than `max` levels deep.
 * Stops descending at `max + 1` levels, so its own recursion stays shallow
 * whatever the input. Byte arrays (MessagePack `bin`) count as values, not as
 * containers.
 *
 * @example
 * ```ts
 * import { nestedDeeperThan } from "./json_depth.ts";
 * nestedDeeperThan({ a: [1] }, 2); // false
 * nestedDeeperThan({ a: [[1]] }, 2); // true
 * ```
 */
export function nestedDeeperThan(value: unknown, max: number): boolean {
  if (!isRecord(value) || ArrayBuffer.isView(value)) return false;
  if (max <= 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestedDeeperThan(item, max - 1)) return true;
    return false;
  }
  for (const key in value) {
    if (Object.hasOwn(value, key) && nestedDeeperThan(value[key], max - 1)) return true;
  }
  return false;
}
