/**
 * An open-loop publisher: sends at a fixed rate whatever the server's answer
 * time, so a slow server shows up as latency, not as a lower offered load.
 *
 * @module
 */
import { LatencyHistogram, wallClockMs } from "./latency_histogram.ts";
import { httpTransport, type PublishItem, type PublishTransport } from "./publish_transport.ts";

/** Options of {@linkcode Publisher}. */
export interface PublisherOptions {
  /** Base URL of the server, `http://host:port`. */
  url: string;
  /** Publishes per second. */
  rate: number;
  /** Makes the item for publish number `i`: `{topic, data, key?}`. */
  makeItem: (i: number) => PublishItem;
  /** Most requests in flight; beyond it the publisher counts itself behind. @default {64} */
  maxInFlight?: number;
  /** Extra request headers (e.g. Authorization), for the default HTTP transport. */
  headers?: Record<string, string>;
  /** Round trips go here; pass one histogram to many publishers to pool them. */
  requestLatency?: LatencyHistogram;
  /**
   * How to publish; {@linkcode Publisher.stop} closes it.
   * @default {httpTransport(url, headers)}
   */
  transport?: PublishTransport;
}

/** What a publisher did. */
export interface PublisherReport {
  sent: number;
  accepted: number;
  failed: number;
  /** Why the first failed publish failed (e.g. `HTTP 401`). */
  firstFailure: string | undefined;
  /** Ticks skipped because `maxInFlight` requests were pending. */
  skipped: number;
  /** Highest seq the server reported, per topic. */
  lastSeqs: Record<string, number>;
  /** Publish round-trip times (HTTP request, or WebSocket publish → ack), of `requestLatency` when pooled. */
  requestMs: ReturnType<LatencyHistogram["summary"]>;
  /** JSON bytes of the items sent. */
  bytes: number;
}

/**
 * Publishes at a fixed rate until stopped, over `POST /publish` or a
 * {@linkcode PublishTransport} given in the options.
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
  readonly #transport: PublishTransport;
  readonly #requestMs: LatencyHistogram;
  readonly #inFlight = new Set<Promise<void>>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #sent = 0;
  #accepted = 0;
  #failed = 0;
  #firstFailure: string | undefined;
  #skipped = 0;
  #bytes = 0;
  #lastSeqs: Record<string, number> = {};
  #started = 0;

  constructor(options: PublisherOptions) {
    if (!(options.rate > 0)) {
      throw new RangeError(`Publisher rate must be > 0, got ${options.rate}`);
    }
    this.#options = options;
    this.#transport = options.transport ?? httpTransport(options.url, options.headers);
    this.#requestMs = options.requestLatency ?? new LatencyHistogram();
  }

  /** Publishes the server accepted so far. */
  get accepted(): number {
    return this.#accepted;
  }

  /** Publishes that failed so far. */
  get failed(): number {
    return this.#failed;
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
    await this.#transport.close();
    return {
      sent: this.#sent,
      accepted: this.#accepted,
      failed: this.#failed,
      firstFailure: this.#firstFailure,
      skipped: this.#skipped,
      lastSeqs: { ...this.#lastSeqs },
      requestMs: this.#requestMs.summary(),
      bytes: this.#bytes,
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
    const body = JSON.stringify(item);
    this.#bytes += body.length;
    const began = wallClockMs();
    const request = this.#transport.publish(item, body).then((outcome) => {
      this.#requestMs.record(wallClockMs() - began);
      if (outcome.ok) {
        this.#accepted++;
        if (outcome.seq > (this.#lastSeqs[item.topic] ?? 0)) {
          this.#lastSeqs[item.topic] = outcome.seq;
        }
      } else this.#fail(outcome.reason);
    }, (err) => {
      this.#fail((err as Error).message);
    }).finally(() => this.#inFlight.delete(request));
    this.#inFlight.add(request);
  }

  #fail(reason: string): void {
    this.#failed++;
    this.#firstFailure ??= reason;
  }
}
