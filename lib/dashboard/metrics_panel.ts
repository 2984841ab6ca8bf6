/// <reference lib="dom" />
/**
 * The service tiles: clients, publish and delivery rates, queue depths, drops,
 * latency, client-side lag, compression and disconnects by reason.
 *
 * @module
 */
import { disconnectEntries } from "./close_label.ts";
import type { MetricsSample } from "../protocol/metrics_sample.ts";
import { h, setData, setText } from "./dom_text.ts";
import { formatBytes, formatCount, formatDuration, formatMs } from "./format.ts";
import type { LagSnapshot } from "./lag_meter.ts";
import type { View } from "./render_scheduler.ts";

interface Tile {
  value: HTMLElement;
  sub: HTMLElement;
  root: HTMLElement;
}

const TILES = [
  ["clients", "Clients"],
  ["publish", "Publish /s"],
  ["deliver", "Deliveries /s"],
  ["queued", "Queued"],
  ["drops", "Dropped /s"],
  ["delay", "Queue delay p99"],
  ["lag", "Page lag p99"],
  ["compression", "Compression"],
  ["memory", "Memory (RSS)"],
  ["disconnects", "Disconnects"],
  ["server", "Uptime"],
] as const;

type TileId = typeof TILES[number][0];

/** The tiles, as a View. */
export class MetricsPanel implements View {
  readonly #tiles = new Map<TileId, Tile>();
  readonly #reasons: HTMLElement;
  #sample: MetricsSample | undefined;
  #lag: LagSnapshot | undefined;
  #dirty = true;
  #reasonsKey = "";

  /** Builds the tiles inside `root`. */
  constructor(root: HTMLElement) {
    const doc = root.ownerDocument;
    for (const [id, label] of TILES) {
      const tile = h(doc, "div", "tile");
      tile.dataset.tile = id;
      const value = h(doc, "div", "tile-value", "—");
      const sub = h(doc, "div", "tile-sub");
      tile.append(h(doc, "div", "tile-label", label), value, sub);
      root.append(tile);
      this.#tiles.set(id, { root: tile, value, sub });
    }
    this.#reasons = h(doc, "ul", "reasons");
    this.#tiles.get("disconnects")!.root.append(this.#reasons);
  }

  /** The latest service sample (undefined: none yet, or `$metrics` is off). */
  setSample(sample: MetricsSample | undefined): void {
    this.#sample = sample;
    this.#dirty = true;
  }

  /** The page's own lag figures. */
  setLag(lag: LagSnapshot): void {
    this.#lag = lag;
    this.#dirty = true;
  }

  render(): void {
    if (!this.#dirty) return;
    this.#dirty = false;
    const s = this.#sample;
    const t = (id: TileId) => this.#tiles.get(id)!;
    if (s) {
      const lagged = s.laggedClients ?? 0;
      this.#set(
        "clients",
        formatCount(s.clients),
        `${s.slowClients} slow · ${lagged} lagged · ${s.topics} topics`,
      );
      setData(t("clients").root, "tone", s.slowClients > 0 || lagged > 0 ? "warn" : "");
      this.#set(
        "publish",
        formatCount(s.publishPerSec),
        `${formatCount(s.totals.published)} total`,
      );
      this.#set(
        "deliver",
        formatCount(s.deliveriesPerSec),
        `${formatCount(s.framesPerSec)} frames · ${formatBytes(s.bytesPerSec)}/s`,
      );
      this.#set(
        "queued",
        formatCount(s.queues.messages),
        `${formatBytes(s.queues.bytes)} · largest ${formatCount(s.queues.maxMessages)}`,
      );
      this.#set(
        "drops",
        formatCount(s.droppedPerSec),
        `${formatCount(s.coalescedPerSec)} coalesced/s · ${formatCount(s.totals.dropped)} total`,
      );
      setData(t("drops").root, "tone", s.droppedPerSec > 0 ? "error" : "");
      const d = s.queueDelayMs;
      this.#set(
        "delay",
        d.count > 0 ? formatMs(d.p99) : "—",
        d.count > 0 ? `p50 ${formatMs(d.p50)} · p95 ${formatMs(d.p95)}` : "no frames this second",
      );
      this.#set(
        "compression",
        s.compressionRatio === undefined ? "off" : `${s.compressionRatio.toFixed(2)}×`,
        s.compressionRatio === undefined ? "not negotiated" : "bytes before ÷ after",
      );
      const m = s.memory;
      this.#set(
        "memory",
        m ? formatBytes(m.rssBytes) : "—",
        m
          ? `${formatBytes(m.heldBytes)} held of ${formatBytes(m.budgetBytes)} · heap ${
            formatBytes(m.heapUsedBytes)
          } · ext ${formatBytes(m.externalBytes)}`
          : "not reported",
      );
      setData(
        t("memory").root,
        "tone",
        m?.pressure === "overloaded" ? "error" : m?.pressure === "shedding" ? "warn" : "",
      );
      this.#renderDisconnects(disconnectEntries(s.disconnectsByCode, s.disconnectsBy));
      this.#set("server", formatDuration(s.uptimeSeconds), s.instance);
    } else {
      for (
        const id of ["clients", "publish", "deliver", "queued", "drops", "delay", "server"] as const
      ) {
        this.#set(id, "—", "waiting for $metrics");
      }
    }
    const lag = this.#lag;
    this.#set(
      "lag",
      lag && lag.count > 0 ? formatMs(lag.p99) : "—",
      lag && lag.count > 0
        ? `p50 ${formatMs(lag.p50)} · ${formatCount(lag.total)} msgs`
        : "publish → render",
    );
  }

  #set(id: TileId, value: string, sub: string): void {
    const tile = this.#tiles.get(id)!;
    setText(tile.value, value);
    setText(tile.sub, sub);
  }

  #renderDisconnects(entries: ReturnType<typeof disconnectEntries>): void {
    const total = entries.reduce((n, e) => n + e.count, 0);
    this.#set("disconnects", formatCount(total), total === 0 ? "none" : "by reason");
    const key = JSON.stringify(entries);
    if (key === this.#reasonsKey) return;
    this.#reasonsKey = key;
    const doc = this.#reasons.ownerDocument;
    this.#reasons.replaceChildren(
      ...entries.slice(0, 4).map((e) => {
        const li = h(doc, "li");
        li.append(
          h(doc, "span", "code", String(e.code)),
          h(doc, "span", "", e.label),
          h(doc, "b", "", String(e.count)),
        );
        return li;
      }),
    );
  }
}
