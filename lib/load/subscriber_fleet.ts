/**
 * All the subscribers of a load run: connects them (in steps, for the capacity
 * ramp), pools their latency per time window, counts what they received during
 * the measured window, and collects their reports at the end.
 *
 * @module
 */
import { connectAll } from "./connect_pool.ts";
import { LatencyHistogram, type LatencySummary } from "./latency_histogram.ts";
import { type ReadMode, Subscriber, type SubscriberReport } from "./subscriber.ts";

/** Options of {@linkcode SubscriberFleet}. */
export interface FleetOptions {
  /** `ws://host:port/ws`. */
  /** Where subscribers connect, round-robin (instances of one cluster). */
  wsUrls: readonly string[];
  topics: string[];
  /** How subscriber number `i` reads. */
  modeOf: (i: number) => ReadMode;
  latencyFrom: "sentAt" | "ts";
  connectConcurrency: number;
  /** Subscribers connect as plain WebSockets (no subprotocol). @default {false} */
  plain?: boolean;
}

/** A fleet member and its counts at the measured window's edges. */
interface Member {
  index: number;
  sub: Subscriber;
  joinedAt: number;
  messagesAtStart: number;
  messagesAtEnd: number | undefined;
}

/** Latency of one time window, fast and slow clients apart. */
export interface WindowLatency {
  fast: LatencySummary;
  slow: LatencySummary;
}

/** One subscriber's end-of-run report, with what the fleet measured of it. */
export interface FleetReport extends SubscriberReport {
  index: number;
  /** Messages/s during the measured window (since it joined, for late joiners). */
  msgsPerSec: number;
  latency: LatencySummary;
}

/** The subscribers of a run. */
export class SubscriberFleet {
  /** Fast clients' latency over the whole measured window. */
  readonly fastTotal = new LatencyHistogram();
  /** Slow clients' latency over the whole measured window. */
  readonly slowTotal = new LatencyHistogram();
  /** Every client's latency per payload kind. */
  readonly byKind = new Map<string, LatencyHistogram>();
  readonly #options: FleetOptions;
  readonly #members: Member[] = [];
  readonly #fastWindow = new LatencyHistogram();
  readonly #slowWindow = new LatencyHistogram();
  #attempted = 0;
  #failed = 0;
  #firstError: string | undefined;
  #measureFrom = Infinity;
  #measureStart: number | undefined;
  #measureEnd: number | undefined;

  constructor(options: FleetOptions) {
    this.#options = options;
  }

  /** Connected subscribers (including ones the server closed since). */
  get size(): number {
    return this.#members.length;
  }

  /** Fast subscribers. */
  get fastCount(): number {
    return this.#members.filter((m) => m.sub.mode.kind === "fast").length;
  }

  /** Connection attempts, failures, the first error, and connect times. */
  get connectStats(): {
    attempted: number;
    failed: number;
    firstError: string | undefined;
    times: number[];
  } {
    return {
      attempted: this.#attempted,
      failed: this.#failed,
      firstError: this.#firstError,
      times: this.#members.map((m) => m.sub.connectMs),
    };
  }

  /** Connects `count` more subscribers; resolves with how many failed. */
  async add(count: number): Promise<{ attempted: number; failed: number }> {
    const o = this.#options;
    const from = this.#attempted;
    this.#attempted += count;
    const outcome = await connectAll(count, o.connectConcurrency, async (i) => {
      const mode = o.modeOf(i);
      const sub = await Subscriber.connect({
        url: o.wsUrls[i % o.wsUrls.length],
        topics: o.topics,
        mode,
        plain: o.plain,
        latency: new LatencyHistogram({ significantDigits: 2 }),
        windowLatency: mode.kind === "fast" ? this.#fastWindow : this.#slowWindow,
        latencyByKind: this.byKind,
        latencyFrom: o.latencyFrom,
        measureFrom: this.#measureFrom,
      });
      const member: Member = {
        index: i,
        sub,
        joinedAt: performance.now(),
        messagesAtStart: 0,
        messagesAtEnd: undefined,
      };
      this.#members.push(member);
      return member;
    }, from);
    this.#failed += outcome.failed;
    this.#firstError ??= outcome.firstError;
    return { attempted: count, failed: outcome.failed };
  }

  /** Starts the measured window: latency counts from now, and so do messages/s. */
  startMeasuring(wallClock: number): void {
    this.#measureFrom = wallClock;
    this.#measureStart = performance.now();
    for (const m of this.#members) {
      m.sub.setMeasureFrom(wallClock);
      m.messagesAtStart = m.sub.messages;
    }
    this.#fastWindow.reset();
    this.#slowWindow.reset();
  }

  /** Ends the measured window (latency of later arrivals still counts). */
  stopMeasuring(): void {
    this.#measureEnd = performance.now();
    for (const m of this.#members) m.messagesAtEnd = m.sub.messages;
  }

  /**
   * The latency recorded since the last call; it is added to the totals (and to
   * `also`, e.g. a capacity stage) and the window starts again.
   */
  takeWindow(also?: LatencyHistogram): WindowLatency {
    const out = { fast: this.#fastWindow.summary(), slow: this.#slowWindow.summary() };
    this.fastTotal.add(this.#fastWindow);
    this.slowTotal.add(this.#slowWindow);
    also?.add(this.#fastWindow);
    this.#fastWindow.reset();
    this.#slowWindow.reset();
    return out;
  }

  /** Messages received so far by fast clients, slow clients, and all. */
  messageCounts(): { fast: number; slow: number; total: number } {
    let fast = 0, slow = 0;
    for (const m of this.#members) {
      if (m.sub.mode.kind === "fast") fast += m.sub.messages;
      else slow += m.sub.messages;
    }
    return { fast, slow, total: fast + slow };
  }

  /** Fast clients the server has closed. */
  closedFast(): number {
    return this.#members.filter((m) => m.sub.mode.kind === "fast" && m.sub.close).length;
  }

  /**
   * Waits until every client that reads (fast or slow) has received or been
   * told about every seq up to `lastSeqs`, or until `ms` passed.
   */
  async settle(lastSeqs: Record<string, number>, ms: number): Promise<void> {
    const readers = this.#members.filter((m) => m.sub.mode.kind !== "stall");
    const deadline = performance.now() + ms;
    while (performance.now() < deadline && !readers.every((m) => m.sub.caughtUp(lastSeqs))) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Ends every subscriber's count against `lastSeqs` and reports each. */
  async finish(lastSeqs: Record<string, number>): Promise<FleetReport[]> {
    const start = this.#measureStart ?? performance.now();
    const end = this.#measureEnd ?? performance.now();
    const reports = await Promise.all(this.#members.map(async (m) => {
      const report = await m.sub.finish(lastSeqs);
      const seconds = (end - Math.max(start, m.joinedAt)) / 1000;
      const received = (m.messagesAtEnd ?? m.sub.messages) - m.messagesAtStart;
      return {
        ...report,
        index: m.index,
        msgsPerSec: seconds > 0 ? received / seconds : 0,
        latency: m.sub.latency.summary(),
      };
    }));
    return reports.sort((a, b) => a.index - b.index);
  }

  /** Closes every connection. */
  async disconnect(): Promise<void> {
    await Promise.all(this.#members.map((m) => m.sub.disconnect()));
  }
}
