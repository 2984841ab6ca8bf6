/**
 * The local copy of one topic's keyed state: the latest value per key, kept up
 * to date from snapshots, messages, merge patches, deletes and refetches.
 *
 * @module
 */
import { applyMergePatch } from "../protocol/merge_patch.ts";
import { Emitter } from "./emitter.ts";

/** What changed a store. */
export type StateCause = "snapshot" | "message" | "refetch" | "reset";

/** One change of a store, as its listeners see it. */
export interface StateChange {
  topic: string;
  /** The seq the store reflects after the change. */
  seq: number;
  cause: StateCause;
  /** Keys whose value was set or patched. */
  changed: string[];
  /** Keys removed. */
  deleted: string[];
  /**
   * True when the whole state was replaced (snapshot, refetch, reset): listeners
   * should re-read every key. `changed` and `deleted` still list the difference.
   */
  replaced: boolean;
}

/** The seq and publish time of a key's latest update. */
export interface EntryMeta {
  /** Seq of the update; for a key from a snapshot or refetch, the snapshot's seq. */
  seq: number;
  /** Publish time (epoch ms) of the update; undefined for snapshot and refetch values. */
  ts?: number;
}

interface Entry<T> extends EntryMeta {
  value: T;
}

/** One keyed update, as the client hands it to the store. */
export interface KeyedUpdate {
  key: string;
  seq: number;
  ts?: number;
  data?: unknown;
  /** `data` is a JSON Merge Patch to apply to the key's value. */
  patch?: boolean;
  /** Remove the key. */
  delete?: boolean;
}

/**
 * A read-only view for the app, plus the update methods the client calls.
 * Values are never mutated in place: a changed key gets a new value, so
 * comparing references tells what changed.
 *
 * @example
 * ```ts
 * import { KeyedState } from "./keyed_state.ts";
 * const sessions = new KeyedState("sessions");
 * sessions.onChange((c) => console.log(c.changed)); // ["s-1"]
 * sessions.update({ key: "s-1", seq: 1, data: { status: "busy" } });
 * sessions.get("s-1"); // { status: "busy" }
 * ```
 */
export class KeyedState<T = unknown> {
  /** The topic this store mirrors. */
  readonly topic: string;
  readonly #entries = new Map<string, Entry<T>>();
  readonly #events = new Emitter<{ change: StateChange }>();
  #seq = 0;
  #stale = false;

  constructor(topic: string) {
    this.topic = topic;
  }

  /** The last seq applied. */
  get seq(): number {
    return this.#seq;
  }

  /**
   * True after a gap that may have skipped updates of some keys, until a
   * snapshot or refetch brings the store back in line.
   */
  get stale(): boolean {
    return this.#stale;
  }

  /** Number of keys. */
  get size(): number {
    return this.#entries.size;
  }

  /** The value of `key`. */
  get(key: string): T | undefined {
    return this.#entries.get(key)?.value;
  }

  /** True when `key` has a value. */
  has(key: string): boolean {
    return this.#entries.has(key);
  }

  /** The seq and publish time of `key`'s latest update. */
  meta(key: string): EntryMeta | undefined {
    const e = this.#entries.get(key);
    return e && (e.ts === undefined ? { seq: e.seq } : { seq: e.seq, ts: e.ts });
  }

  /** Keys, in insertion order. */
  keys(): IterableIterator<string> {
    return this.#entries.keys();
  }

  /** `[key, value]` pairs, in insertion order. */
  *entries(): IterableIterator<[string, T]> {
    for (const [k, e] of this.#entries) yield [k, e.value];
  }

  /** Same as {@linkcode KeyedState.entries}. */
  [Symbol.iterator](): IterableIterator<[string, T]> {
    return this.entries();
  }

  /** The state as a plain object (key → value). */
  toObject(): Record<string, T> {
    const out: Record<string, T> = {};
    for (const [k, e] of this.#entries) out[k] = e.value;
    return out;
  }

  /** Calls `listener` after every change; returns the function that removes it. */
  onChange(listener: (change: StateChange) => void): () => void {
    return this.#events.on("change", listener);
  }

  /** Applies one keyed message: a set, a merge patch or a delete. */
  update(u: KeyedUpdate): void {
    this.#seq = Math.max(this.#seq, u.seq);
    if (u.delete) {
      if (this.#entries.delete(u.key)) this.#emit("message", [], [u.key], false);
      return;
    }
    const prev = this.#entries.get(u.key);
    const value = (u.patch ? applyMergePatch(prev?.value, u.data) : u.data) as T;
    const entry: Entry<T> = { value, seq: u.seq };
    if (u.ts !== undefined) entry.ts = u.ts;
    this.#entries.set(u.key, entry);
    this.#emit("message", [u.key], [], false);
  }

  /** Notes that seqs up to `seq` were seen (messages without a key, gaps). */
  advance(seq: number): void {
    this.#seq = Math.max(this.#seq, seq);
  }

  /**
   * Replaces the whole state (a snapshot or a refetch) and clears `stale`.
   * Keys whose value is deep-equal to the old one keep their old value and
   * are not reported as changed.
   */
  replace(state: Record<string, unknown>, seq: number, cause: StateCause): void {
    const changed: string[] = [];
    const deleted: string[] = [];
    for (const key of [...this.#entries.keys()]) {
      if (!Object.hasOwn(state, key)) {
        this.#entries.delete(key);
        deleted.push(key);
      }
    }
    for (const [key, value] of Object.entries(state)) {
      const prev = this.#entries.get(key);
      if (prev && sameJson(prev.value, value)) continue;
      this.#entries.set(key, { value: value as T, seq });
      changed.push(key);
    }
    this.#seq = seq;
    this.#stale = false;
    this.#emit(cause, changed, deleted, true);
  }

  /** Empties the store (the server's history was lost and it has no state for the topic). */
  reset(seq = 0): void {
    this.replace({}, seq, "reset");
  }

  /** Marks the store as possibly missing updates (see {@linkcode KeyedState.stale}). */
  markStale(): void {
    this.#stale = true;
  }

  #emit(cause: StateCause, changed: string[], deleted: string[], replaced: boolean): void {
    if (!this.#events.has("change")) return;
    this.#events.emit("change", {
      topic: this.topic,
      seq: this.#seq,
      cause,
      changed,
      deleted,
      replaced,
    });
  }
}

/** Deep equality of JSON-like values (objects, arrays, primitives). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) {
      return false;
    }
  }
  return true;
}
