/**
 * Follows a Floodgate server during a load run: its CPU, memory and counters
 * from `GET /metrics`, and per-client drops from `GET /stats`. Works against any
 * instance the load tester can reach, not only one it started.
 *
 * @module
 */
import { httpGet } from "./http_get.ts";
import { fetchMetrics } from "./prometheus_text.ts";

/** One reading of the server's `/metrics`. */
export interface ServerSample {
  /** Seconds since the sampler was created. */
  t: number;
  /** `process_resident_memory_bytes`. */
  rssBytes: number;
  /** `process_cpu_seconds_total`. */
  cpuSeconds: number;
  /** CPU used since the previous sample, in % of one core (0 for the first). */
  cpuPercent: number;
  clients: number;
  published: number;
  delivered: number;
  bytesSent: number;
  gapsSent: number;
  dropped: number;
  coalesced: number;
  /** `floodgate_disconnects_total` by close code, whoever closed. */
  disconnects: Record<string, number>;
}

/** What the server's `/stats` last said about one client. */
export interface ServerClientView {
  dropped: number;
  coalesced: number;
  sentMessages: number;
}

const SERIES: Record<Exclude<keyof ServerSample, "t" | "cpuPercent" | "disconnects">, string> = {
  rssBytes: "process_resident_memory_bytes",
  cpuSeconds: "process_cpu_seconds_total",
  clients: "floodgate_clients",
  published: "floodgate_published_total",
  delivered: "floodgate_delivered_total",
  bytesSent: "floodgate_bytes_sent_total",
  gapsSent: "floodgate_gaps_sent_total",
  dropped: "floodgate_dropped_total",
  coalesced: "floodgate_coalesced_total",
};

/**
 * Samples a server, or the instances of one cluster summed, on demand (the
 * caller's clock decides when).
 *
 * @example
 * ```ts ignore
 * const sampler = new ServerSampler("http://127.0.0.1:8080");
 * await sampler.sample(); // { t: 0, rssBytes: 75632640, cpuSeconds: 0.04, … }
 * ```
 */
export class ServerSampler {
  readonly #baseUrls: readonly string[];
  readonly #started = performance.now();
  readonly #samples: ServerSample[] = [];
  readonly #clients = new Map<string, ServerClientView>();
  #error: string | undefined;

  /** @param baseUrls `http://host:port` of the server, or of each instance of a cluster. */
  constructor(baseUrls: string | readonly string[]) {
    this.#baseUrls = typeof baseUrls === "string" ? [baseUrls] : baseUrls;
  }

  /** Every sample taken, oldest first. */
  get samples(): readonly ServerSample[] {
    return this.#samples;
  }

  /** Why the last request failed, if it did (e.g. `/metrics` not reachable). */
  get error(): string | undefined {
    return this.#error;
  }

  /**
   * Reads `/metrics` (of every instance, summed) and keeps the sample;
   * undefined when it could not be read.
   */
  async sample(): Promise<ServerSample | undefined> {
    let all: Map<string, number>[];
    try {
      all = await Promise.all(this.#baseUrls.map((url) => fetchMetrics(`${url}/metrics`)));
    } catch (err) {
      this.#error = (err as Error).message;
      return undefined;
    }
    const disconnects: Record<string, number> = {};
    const sample = {
      t: (performance.now() - this.#started) / 1000,
      cpuPercent: 0,
      disconnects,
    } as ServerSample;
    for (const field of Object.keys(SERIES)) sample[field as keyof typeof SERIES] = 0;
    for (const metrics of all) {
      for (const [series, value] of metrics) {
        const code = /^floodgate_disconnects_total\{code="(\d+)"\}$/.exec(series)?.[1];
        if (code) disconnects[code] = (disconnects[code] ?? 0) + value;
      }
      for (const [field, series] of Object.entries(SERIES)) {
        sample[field as keyof typeof SERIES] += metrics.get(series) ?? 0;
      }
    }
    const previous = this.#samples.at(-1);
    if (previous && sample.t > previous.t) {
      sample.cpuPercent = ((sample.cpuSeconds - previous.cpuSeconds) / (sample.t - previous.t)) *
        100;
    }
    this.#samples.push(sample);
    return sample;
  }

  /**
   * Reads `/stats` and remembers each listed client's drops. A client closed by
   * the server keeps the last figures seen before it left.
   */
  async sampleClients(): Promise<void> {
    for (const base of this.#baseUrls) await this.#sampleClientsOf(base);
  }

  async #sampleClientsOf(base: string): Promise<void> {
    try {
      const url = `${base}/stats`;
      const { status, text } = await httpGet(url);
      if (status !== 200) throw new Error(`GET ${url} answered ${status}`);
      const body = JSON.parse(text) as {
        clients?: { id: string; dropped: number; coalesced: number; sent: { messages: number } }[];
      };
      for (const c of body.clients ?? []) {
        this.#clients.set(c.id, {
          dropped: c.dropped,
          coalesced: c.coalesced,
          sentMessages: c.sent.messages,
        });
      }
    } catch (err) {
      this.#error = (err as Error).message;
    }
  }

  /** What `/stats` last said about client `id`. */
  client(id: string | undefined): ServerClientView | undefined {
    return id === undefined ? undefined : this.#clients.get(id);
  }
}
