import { clearImmediate, setImmediate } from "node:timers";

/** Something with a queue to write out. */
export interface Drainable {
  /**
   * Writes what flow control allows: `"idle"` when nothing is left, `"blocked"`
   * when flow control stopped it, `"more"` when it yields with more to send.
   */
  drain(): "idle" | "blocked" | "more";
  /** Set by the scheduler while the client waits in its dirty list. */
  drainScheduled: boolean;
}

/** Options of {@linkcode DrainScheduler}. */
export interface DrainSchedulerOptions {
  /**
   * 0 drains once per event-loop turn (everything published in one turn goes out
   * as one frame per client); N > 0 drains every N ms.
   * @default {0}
   */
  flushMs?: number;
  /**
   * How often clients stopped by flow control are retried, in ms.
   * @default {10}
   */
  pollMs?: number;
}

/**
 * Decides when client queues are written. Publishes only mark clients dirty;
 * one task per turn (or per flush interval) drains them all, so a burst of
 * publishes becomes one frame per client. Clients stopped by flow control are
 * retried on a timer, never in the publish path, so no client waits for
 * another. A client that yields with more to send (a large message going out
 * chunk by chunk) is drained again on the next run, after the event loop has
 * taken in new publishes.
 */
export class DrainScheduler<T extends Drainable> {
  readonly #flushMs: number;
  readonly #pollMs: number;
  #dirty: T[] = [];
  #blocked = new Set<T>();
  #runTimer: ReturnType<typeof setTimeout> | undefined;
  #runImmediate: ReturnType<typeof setImmediate> | undefined;
  #pollTimer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;

  constructor(options: DrainSchedulerOptions = {}) {
    this.#flushMs = options.flushMs ?? 0;
    this.#pollMs = options.pollMs ?? 10;
    if (!(this.#flushMs >= 0)) throw new RangeError(`flushMs must be >= 0, got ${this.#flushMs}`);
  }

  /** Clients stopped by flow control right now. */
  get blockedCount(): number {
    return this.#blocked.size;
  }

  /** Marks a client as having something to write. */
  mark(client: T): void {
    if (this.#stopped || client.drainScheduled) return;
    client.drainScheduled = true;
    this.#dirty.push(client);
    if (this.#runTimer === undefined && this.#runImmediate === undefined) {
      // 0 ms: at the end of this event-loop turn, after every I/O callback of the turn has
      // published (setImmediate), not at the next timers phase a millisecond later (setTimeout).
      if (this.#flushMs > 0) this.#runTimer = setTimeout(this.#run, this.#flushMs);
      else this.#runImmediate = setImmediate(this.#run);
    }
  }

  /**
   * Drains a client stopped by flow control on the next run instead of the
   * next poll (its peer just confirmed bytes). Does nothing for other clients.
   */
  wake(client: T): void {
    if (!this.#blocked.delete(client)) return;
    this.mark(client);
  }

  /** Forgets a client (it disconnected). */
  forget(client: T): void {
    this.#blocked.delete(client);
  }

  /** Drains every dirty client now. */
  flushNow(): void {
    this.#cancelRun();
    this.#run();
  }

  #cancelRun(): void {
    if (this.#runTimer !== undefined) clearTimeout(this.#runTimer);
    if (this.#runImmediate !== undefined) clearImmediate(this.#runImmediate);
    this.#runTimer = this.#runImmediate = undefined;
  }

  /** Cancels all timers. */
  stop(): void {
    this.#stopped = true;
    this.#cancelRun();
    if (this.#pollTimer !== undefined) clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    this.#dirty = [];
    this.#blocked.clear();
  }

  #run = (): void => {
    this.#runTimer = this.#runImmediate = undefined;
    const dirty = this.#dirty;
    this.#dirty = [];
    for (const client of dirty) {
      client.drainScheduled = false;
      // A blocked client is drained too: what just arrived may pass what blocks it (a small
      // message beside a chunked transfer waiting for its window); flow control decides.
      const result = client.drain();
      if (result === "blocked") this.#blocked.add(client);
      else {
        this.#blocked.delete(client);
        if (result === "more") this.mark(client);
      }
    }
    this.#armPoll();
  };

  #poll = (): void => {
    this.#pollTimer = undefined;
    for (const client of this.#blocked) {
      const result = client.drain();
      if (result === "blocked") continue;
      this.#blocked.delete(client);
      if (result === "more") this.mark(client);
    }
    this.#armPoll();
  };

  #armPoll(): void {
    if (this.#blocked.size > 0 && this.#pollTimer === undefined && !this.#stopped) {
      this.#pollTimer = setTimeout(this.#poll, this.#pollMs);
    }
  }
}
