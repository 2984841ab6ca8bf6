/// <reference lib="dom" />
/**
 * The dashboard page (`GET /`): the service's own numbers from `$metrics` and
 * `/stats`, a chart of the last minutes, and any keyed topic as cards. Built on
 * the client SDK. Every DOM write happens in the render scheduler's one pass
 * per animation frame; the page counts its passes and any DOM mutation made
 * outside them, and exposes both (and its publish-to-render lag) on
 * `window.floodgateDashboard`.
 *
 * URL parameters: `topic` (the keyed topic shown as cards, default
 * `sessions`), `theme` (`light` or `dark`; default: the system's), `token`
 * (a JWT for a server started with `--jwt-secret`; it must allow `$metrics`
 * and the topics to show).
 *
 * @module
 */
import { connect } from "../client/client.ts";
import type { KeyedState } from "../client/keyed_state.ts";
import { METRICS_TOPIC, type MetricsSample } from "../protocol/metrics_sample.ts";
import { CardGrid } from "./card_grid.ts";
import { ClientsTable, type StatsClient } from "./clients_table.ts";
import { setData, setText } from "./dom_text.ts";
import { formatCount } from "./format.ts";
import { LagMeter, type LagSnapshot } from "./lag_meter.ts";
import { aggregateSamples } from "./metrics_aggregate.ts";
import { MetricsPanel } from "./metrics_panel.ts";
import { RateChart } from "./rate_chart.ts";
import { RenderScheduler, type RenderStats } from "./render_scheduler.ts";
import { type CardGridStats } from "./card_grid.ts";

/** What the page exposes on `window.floodgateDashboard`, for tests and load testers. */
export interface DashboardHandle {
  /** The SDK client. */
  readonly client: ReturnType<typeof connect>;
  /** Publish-to-render lag of the shown topic's messages. */
  lag(): LagSnapshot;
  /** Render passes, and DOM mutation batches seen outside a pass (should stay 0). */
  render(): RenderStats & {
    mutationBatches: number;
    strayMutationBatches: number;
    messages: number;
    grid: CardGridStats;
  };
  /** Shows another keyed topic as cards. */
  showTopic(topic: string): void;
}

const THEMES = ["auto", "light", "dark"] as const;
type Theme = typeof THEMES[number];
const STATS_POLL_MS = 2000;
const LAG_REFRESH_MS = 500;

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`The page has no #${id}; is index.html out of date?`);
  return el as T;
}

function storedTheme(): Theme {
  const param = new URLSearchParams(location.search).get("theme");
  const value = param ?? localStorage.getItem("floodgate.theme") ?? "auto";
  return (THEMES as readonly string[]).includes(value) ? value as Theme : "auto";
}

/** The palette a theme choice shows: `auto` follows the system. */
function themeOf(theme: Theme): "light" | "dark" {
  if (theme !== "auto") return theme;
  return matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

function start(): DashboardHandle {
  const params = new URLSearchParams(location.search);
  let topic = params.get("topic") ?? localStorage.getItem("floodgate.topic") ?? "sessions";
  let theme = storedTheme();
  const scheduler = new RenderScheduler((cb) => requestAnimationFrame(cb));
  const token = params.get("token") ?? undefined;
  const fg = connect(new URL("ws", location.href), { topics: [METRICS_TOPIC], token });
  const lag = new LagMeter(2000);
  const pendingTs: number[] = [];
  let messages = 0;

  // Views: built now, before the mutation observer starts; written only in passes.
  const panel = new MetricsPanel(byId("tiles"));
  const chart = new RateChart(byId<HTMLCanvasElement>("chart"));
  const clients = new ClientsTable(byId("clients"));
  const grid = new CardGrid(byId("grid"), () => scheduler.request());
  const statusEl = byId("status");
  const connEl = byId("connection");
  const topicInput = byId<HTMLInputElement>("topic");
  const topicList = byId("topic-list");
  const topicInfo = byId("topic-info");
  const staleEl = byId("stale");
  const emptyEl = byId("empty");
  const themeButton = byId("theme-toggle");
  topicInput.value = topic;

  let store: KeyedState | undefined;
  let unsubscribe: (() => void) | undefined;
  let knownTopics: string[] = [];
  let topicsDirty = false;
  let headerDirty = true;
  let themeDirty = true;

  function showTopic(next: string): void {
    unsubscribe?.();
    topic = next;
    localStorage.setItem("floodgate.topic", topic);
    try {
      const sub = fg.subscribe(topic, (m) => {
        messages++;
        pendingTs.push(m.ts);
      });
      store = sub.state;
      const offState = store.onChange(() => {
        headerDirty = true;
        scheduler.request();
      });
      unsubscribe = () => {
        offState();
        sub.unsubscribe();
      };
    } catch (err) {
      store = undefined;
      unsubscribe = undefined;
      console.warn((err as Error).message);
    }
    grid.attach(store);
    headerDirty = true;
    scheduler.request();
  }

  scheduler.add({
    render() {
      if (themeDirty) {
        themeDirty = false;
        setData(document.documentElement, "theme", themeOf(theme));
        setText(themeButton, `Theme: ${theme}`);
        chart.invalidate();
      }
      if (topicsDirty) {
        topicsDirty = false;
        topicList.replaceChildren(...knownTopics.map((t) => new Option(t)));
      }
      if (!headerDirty) return;
      headerDirty = false;
      setData(statusEl, "status", fg.status);
      setText(statusEl, fg.status === "open" ? "live" : fg.status);
      const s = fg.stats;
      setText(
        connEl,
        fg.epoch
          ? `epoch ${fg.epoch} · ${fg.clientId} · ${fg.codec} · ${s.reconnects} reconnects`
          : "connecting…",
      );
      const keys = store?.size ?? 0;
      setText(
        topicInfo,
        store ? `${formatCount(keys)} keys · seq ${formatCount(store.seq)}` : "invalid topic name",
      );
      staleEl.hidden = !store?.stale;
      emptyEl.hidden = keys > 0;
      setText(emptyEl, `No keys on “${topic}” yet. Publish one with a "key" to see its card.`);
    },
  });
  scheduler.add(panel);
  scheduler.add(chart);
  scheduler.add(clients);
  scheduler.add(grid);
  scheduler.afterPass(() => {
    if (pendingTs.length === 0) return;
    const now = performance.timeOrigin + performance.now();
    for (const ts of pendingTs) lag.record(ts, now);
    pendingTs.length = 0;
  });

  // Data in: mark views dirty and ask for a pass; never touch the DOM here.
  fg.on("status", () => {
    headerDirty = true;
    scheduler.request();
  });
  fg.on("open", () => {
    headerDirty = true;
    scheduler.request();
  });
  const metrics = fg.state<MetricsSample>(METRICS_TOPIC);
  metrics.onChange(() => {
    const sample = aggregateSamples([...metrics.entries()].map(([, v]) => v));
    panel.setSample(sample);
    if (sample) {
      chart.push({
        t: sample.at,
        deliveriesPerSec: sample.deliveriesPerSec,
        queueDelayP99: sample.queueDelayMs.p99,
        lagP99: lag.snapshot().p99,
      });
    }
    scheduler.request();
  });
  setInterval(() => {
    panel.setLag(lag.snapshot());
    scheduler.request();
  }, LAG_REFRESH_MS);

  async function pollStats(): Promise<void> {
    if (document.visibilityState === "hidden") return;
    try {
      // /stats is behind --admin-token (or a JWT with admin: true): the page's ?token= goes along.
      const url = new URL("stats", location.href);
      if (token !== undefined) url.searchParams.set("token", token);
      const res = await fetch(url);
      if (!res.ok) throw new Error(`GET /stats answered ${res.status}`);
      const body = await res.json() as { clients: StatsClient[] };
      clients.setClients(body.clients);
      const topics = [...new Set(body.clients.flatMap((c) => c.topics))]
        .filter((t) => !t.startsWith("$")).sort();
      if (topics.join() !== knownTopics.join()) {
        knownTopics = topics;
        topicsDirty = true;
      }
      scheduler.request();
    } catch {
      // The server is away; the status pill already says so.
    }
  }
  pollStats();
  setInterval(pollStats, STATS_POLL_MS);

  // Events of the page.
  const relayout = () => {
    grid.markLayout();
    chart.invalidate();
  };
  addEventListener("scroll", () => grid.markLayout(), { passive: true });
  addEventListener("resize", relayout);
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    themeDirty = true;
    scheduler.request();
  });
  themeButton.addEventListener("click", () => {
    theme = THEMES[(THEMES.indexOf(theme) + 1) % THEMES.length];
    localStorage.setItem("floodgate.theme", theme);
    themeDirty = true;
    scheduler.request();
  });
  byId("topic-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const next = topicInput.value.trim();
    if (next && next !== topic) showTopic(next);
  });

  showTopic(topic);

  // The proof of throttling: DOM mutations are delivered to this observer once
  // per pass; a second batch before the next pass means a write outside it.
  let mutationBatches = 0;
  let strayMutationBatches = 0;
  let lastPass = -1;
  new MutationObserver(() => {
    mutationBatches++;
    if (scheduler.passes === lastPass) strayMutationBatches++;
    lastPass = scheduler.passes;
  }).observe(document.documentElement, {
    subtree: true,
    childList: true,
    attributes: true,
    characterData: true,
  });

  return {
    client: fg,
    lag: () => lag.snapshot(),
    render: () => ({
      ...scheduler.stats(),
      mutationBatches,
      strayMutationBatches,
      messages,
      grid: grid.stats(),
    }),
    showTopic,
  };
}

(globalThis as { floodgateDashboard?: DashboardHandle }).floodgateDashboard = start();
