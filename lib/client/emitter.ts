/**
 * A small typed event emitter: `on(name, listener)` returns the function that
 * removes the listener. A listener that throws does not stop the others; its
 * error is reported with `reportError` (or `console.error` where that is
 * missing).
 *
 * @module
 */

/** Calls `listener`, reporting what it throws instead of propagating it. */
export function safeCall<A>(listener: (arg: A) => void, arg: A): void {
  try {
    listener(arg);
  } catch (err) {
    const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
    if (report) report(err);
    else console.error(err);
  }
}

/**
 * Typed events: `Events` maps each event name to its payload type.
 *
 * @example
 * ```ts
 * import { Emitter } from "./emitter.ts";
 * const events = new Emitter<{ tick: number }>();
 * const off = events.on("tick", (n) => console.log(n));
 * events.emit("tick", 1); // logs 1
 * off();
 * ```
 */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(arg: never) => void>>();

  /** Adds a listener; returns the function that removes it. */
  on<K extends keyof Events>(name: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as (arg: never) => void);
    return () => {
      set.delete(listener as (arg: never) => void);
    };
  }

  /** Adds a listener that runs once. */
  once<K extends keyof Events>(name: K, listener: (payload: Events[K]) => void): () => void {
    const off = this.on(name, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  /** Calls the listeners of `name` in the order they were added. */
  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    const set = this.#listeners.get(name);
    if (!set || set.size === 0) return;
    for (const listener of [...set]) safeCall(listener as (arg: Events[K]) => void, payload);
  }

  /** True when `name` has a listener. */
  has(name: keyof Events): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }
}
