/**
 * What the load tester publishes: padded messages of a given size, realistic
 * dashboard session updates (one key per session), and large tab/pane state
 * trees. Every payload carries `kind` (latency is reported per kind), `sentAt`
 * (the publisher's clock, for end-to-end latency) and `i` (its publish number).
 *
 * @module
 */
import { wallClockMs } from "./latency_histogram.ts";
import type { PublishItem } from "./publish_transport.ts";
import { seededRandom } from "./seeded_random.ts";

/** Which generator to use. */
export type PayloadKind =
  /** `{pad: "xxx…"}` sized so the `message` frame is about `bytes` long; no key. */
  | "pad"
  /** A coding-agent session as a dashboard shows it (~1.5–2 KB), keyed by session. */
  | "session";

/** The envelope and fields around the pad: `{"type":"message","topic":…,"data":{…}}`. */
const PAD_OVERHEAD = 130;

const WORDS = (
  "the a to of and in for on with session tool file test build read edit run check update " +
  "server client queue message topic latency payload branch commit review deploy fix refactor " +
  "parse render index cache worker socket stream buffer config schema migrate query request"
).split(" ");
const EVENTS = ["PreToolUse", "PostToolUse", "UserPromptSubmit", "Notification", "Stop"];
const TOOLS = ["Bash", "Read", "Edit", "Grep", "Write", "Glob", "WebFetch"];
const STATUSES = ["running", "waiting", "idle", "running", "running"];

function words(rand: () => number, count: number): string {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)]);
  return out.join(" ");
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)];
}

/**
 * Update number `i` of session `session`: what a hook event on a coding-agent
 * session sends to a dashboard (status, last tool, a task description, token
 * counts, the last few events).
 *
 * @example
 * ```ts
 * import { sessionUpdate } from "./payloads.ts";
 * const s = sessionUpdate(3, 17).session as { session_id: string };
 * s.session_id; // "s-3"
 * ```
 */
export function sessionUpdate(session: number, i: number): Record<string, unknown> {
  const rand = seededRandom(session * 1_000_003 + i);
  const started = Date.UTC(2025, 0, 1) + session * 60_000;
  const events = Array.from({ length: 5 }, (_, k) => ({
    event: pick(rand, EVENTS),
    tool: pick(rand, TOOLS),
    at: new Date(started + (i - k) * 400).toISOString(),
  }));
  return {
    kind: "session",
    sentAt: wallClockMs(),
    i,
    session: {
      session_id: `s-${session}`,
      status: pick(rand, STATUSES),
      project: `project-${session % 7}`,
      cwd: `/home/dev/src/project-${session % 7}/${words(rand, 2).replaceAll(" ", "-")}`,
      model: "large-model-2025",
      git_branch: `feature/${words(rand, 3).replaceAll(" ", "-")}`,
      started_at: new Date(started).toISOString(),
      updated_at: new Date(started + i * 400).toISOString(),
      last_event: pick(rand, EVENTS),
      last_tool: pick(rand, TOOLS),
      tool_input_preview: words(rand, 20),
      task_description: words(rand, 60 + Math.floor(rand() * 80)),
      tokens: {
        input: 1000 * i + Math.floor(rand() * 5000),
        output: 300 * i + Math.floor(rand() * 2000),
        cache_read: 5000 * i,
      },
      cost_usd: Math.round(i * 0.013 * 1000) / 1000,
      event_count: i,
      recent_events: events,
    },
  };
}

/**
 * A tab/pane state tree of about `bytes` of JSON (windows → tabs → panes with
 * terminal scrollback), as a terminal app syncs its whole layout. Built once
 * per size; add `sentAt` per publish with {@linkcode stampTree}.
 *
 * @throws {RangeError} when `bytes` is below 1024.
 */
export function tabTree(bytes: number): Record<string, unknown> {
  if (!(bytes >= 1024)) throw new RangeError(`A tab tree needs at least 1024 bytes, got ${bytes}`);
  const rand = seededRandom(bytes);
  const tabs: Record<string, unknown>[] = [];
  const tree = { kind: "tree", windows: [{ id: "w-1", focused: true, tabs }] };
  let size = JSON.stringify(tree).length;
  for (let t = 0; size < bytes; t++) {
    const panes = [];
    for (let p = 0; p < 3 && size < bytes; p++) {
      const scrollback: string[] = [];
      const pane = { id: `p-${t}-${p}`, cmd: pick(rand, TOOLS), cols: 120, rows: 40, scrollback };
      size += JSON.stringify(pane).length + 1;
      while (size < bytes && scrollback.length < 200) {
        const line = `$ ${words(rand, 8 + Math.floor(rand() * 10))}`;
        scrollback.push(line);
        size += line.length + 3;
      }
      panes.push(pane);
    }
    const tab = { id: `t-${t}`, title: words(rand, 3), cwd: `/home/dev/t${t}`, panes };
    size += JSON.stringify({ ...tab, panes: [] }).length + 1;
    tabs.push(tab);
  }
  return tree;
}

/** A copy of `tree` carrying this publish's `sentAt` and number `i`. */
export function stampTree(tree: Record<string, unknown>, i: number): Record<string, unknown> {
  return { ...tree, sentAt: wallClockMs(), i };
}

/** Options of {@linkcode itemMaker}. */
export interface ItemMakerOptions {
  payload: PayloadKind;
  /** For `pad`: approximate size of the `message` frame. */
  bytes: number;
  /** The topic this publisher publishes to. */
  topic: string;
  /** Which publisher (session) this is: the key of session updates. */
  publisher: number;
}

/**
 * The item maker of one publisher: publish number `i` → `{topic, data, key?}`.
 *
 * @example
 * ```ts
 * import { itemMaker } from "./payloads.ts";
 * const make = itemMaker({ payload: "pad", bytes: 200, topic: "feed", publisher: 0 });
 * JSON.stringify(make(0)).length > 150; // true
 * ```
 */
export function itemMaker(options: ItemMakerOptions): (i: number) => PublishItem {
  const { topic, publisher } = options;
  if (options.payload === "session") {
    return (i) => ({ topic, key: `s-${publisher}`, data: sessionUpdate(publisher, i) });
  }
  const pad = "x".repeat(Math.max(0, options.bytes - PAD_OVERHEAD));
  return (i) => ({ topic, data: { kind: "pad", sentAt: wallClockMs(), i, pad } });
}
