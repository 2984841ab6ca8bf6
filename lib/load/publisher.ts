/**
 * An open-loop publisher: sends at a fixed rate whatever the server's answer
 * time, so a slow server shows up as latency, not as a lower offered load.
 *
 * @module
 */
import { LatencyHistogram, wallClockMs } from "./latency_histogram.ts";

/** Options of {@linkcode Publisher}. */
export interface PublisherOptions {
  /** Base URL of the server, `http://host:port`. */
  url: string;
  /** Publishes per second. */
  rate: number;
  /** Makes the item for publish number `i`: `{topic, data, key?}`. */
  makeItem: (i: number) => { topic: string; data: unknown; key?: string };
  /** Most requests in flight; beyond it the publisher counts itself behind. @default {64} */
  maxInFlight?: number;
  /** Extra request headers (e.g. Authorization). */
  headers?: Record<string, string>;
}

/** What a publisher did. */
export interface PublisherReport {
  sent: number;
  accepted: number;
  failed: number;
  /** Ticks skipped because `maxInFlight` requests were pending. */
  skipped: number;
  /** Highest seq the server reported, per topic. */
  lastSeqs: Record<string, number>;
  /** POST round-trip times. */
  requestMs: ReturnType<LatencyHistogram["summary"]>;
}

/**
 * Publishes over `POST /publish` at a fixed rate until stopped.
 *
 * @example
 * ```ts ignore
 * const p = new Publisher({ url, rate: 50, makeItem: (i) => ({ topic: "feed", data: { i } }) });
 * p.start();
 * await new Promise((r) => setTimeout(r, 1000));
 * const report = await p.stop();
 * ```
 */
export class Publisher {
  readonly #options: PublisherOptions;
  readonly #requestMs = new LatencyHistogram();
  readonly #inFlight = new Set<Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sent = 0;
  #accepted = 0;
  #failed = 0;
  #skipped = 0;
  #lastSeqs: Record<string, number> = {};
  #started = 0;

  constructor(options: PublisherOptions) {
    if (!(options.rate > 0)) {
      throw new RangeError(`Publisher rate must be > 0, got ${options.rate}`);
    }
    this.#options = options;
  }

  /** Starts publishing. */
  start(): void {
    this.#started = performance.now();
    this.#tick();
  }

  /** Stops, waits for requests in flight, and reports. */
  async stop(): Promise<PublisherReport> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await Promise.all(this.#inFlight);
    return {
      sent: this.#sent,
      accepted: this.#accepted,
      failed: this.#failed,
      skipped: this.#skipped,
      lastSeqs: { ...this.#lastSeqs },
      requestMs: this.#requestMs.summary(),
    };
  }

  #tick = (): void => {
    const interval = 1000 / this.#options.rate;
    const due = Math.floor((performance.now() - this.#started) / interval) + 1;
    while (this.#sent + this.#skipped < due) {
      if (this.#inFlight.size >= (this.#options.maxInFlight ?? 64)) {
        this.#skipped++;
        continue;
      }
      this.#send(this.#sent + this.#skipped);
    }
    const next = this.#started + (this.#sent + this.#skipped) * interval - performance.now();
    this.#timer = setTimeout(this.#tick, Math.max(0, next));
  };

  #send(i: number): void {
    this.#sent++;
    const item = this.#options.makeItem(i);
    const began = wallClockMs();
    const request = fetch(`${this.#options.url}/publish`, {
      method: "POST",
      headers: { "content-type": "application/json", ...this.#options.headers },
      body: JSON.stringify(item),
    }).then(async (res) => {
      const body = await res.json().catch(() => ({}));
      this.#requestMs.record(wallClockMs() - began);
      if (res.status === 202) {
        this.#accepted++;
        if (typeof body.seq === "number" && body.seq > (this.#lastSeqs[item.topic] ?? 0)) {
          this.#lastSeqs[item.topic] = body.seq;
        }
      } else this.#failed++;
    }, () => {
      this.#failed++;
    }).finally(() => this.#inFlight.delete(request));
    this.#inFlight.add(request);
  }
}
