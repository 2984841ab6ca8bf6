/**
 * Realistic payloads for tests and benchmarks of large messages: a terminal
 * app's tab/pane state tree (the 424 KB `tabs.sync.push` of the user reports)
 * and a ~2 KB session update. Deterministic: the same arguments give the same
 * value. The load tester publishes them through {@linkcode itemMaker}.
 *
 * @module
 */
import { wallClockMs } from "./latency_histogram.ts";
import type { PublishItem } from "./publish_transport.ts";

/**
 * A tab/pane state tree whose JSON is about `targetBytes` long, with the
 * quotes, backslashes, newlines and non-ASCII text real titles and scrollback
 * carry.
 *
 * @example
 * ```ts
 * import { tabTree } from "./payloads.ts";
 * JSON.stringify(tabTree(424_000)).length; // ≈ 424,000
 * ```
 */
export function tabTree(targetBytes: number, version = 0): { version: number; tabs: unknown[] } {
  const tabs: unknown[] = [];
  const tree = { version, tabs };
  let size = 30;
  for (let i = 0; size < targetBytes; i++) {
    const tab = {
      id: `tab-${i}`,
      title: `Terminal ${i} — ~/src/project-${i % 40} "main" ✓`,
      cwd: `/home/dev/src/project-${i % 40}/packages/app-${i % 7}`,
      active: i % 9 === 0,
      panes: [0, 1].map((p) => ({
        id: `pane-${i}-${p}`,
        kind: p === 0 ? "terminal" : "editor",
        cols: 120 + (i % 5),
        rows: 40,
        cursor: { x: (i * 7) % 120, y: (i * 3) % 40 },
        lastLines: [
          `$ npm run build --workspace app-${i % 7}`,
          `\u001b[32m✔\u001b[0m compiled in ${(i * 13) % 900} ms\twarnings: ${i % 4}`,
          `C:\\Users\\dev\\logs\\build-${i}.txt "done"`,
        ],
      })),
      updatedAt: 1745000000000 + i * 1000,
    };
    tabs.push(tab);
    size += JSON.stringify(tab).length + 1;
  }
  return tree;
}

/**
 * A ~2 KB session update (`sessions` topic): status, usage, recent tools.
 *
 * @example
 * ```ts
 * import { sessionUpdate } from "./payloads.ts";
 * JSON.stringify(sessionUpdate(1)).length; // ≈ 2,000
 * ```
 */
export function sessionUpdate(n: number): Record<string, unknown> {
  return {
    sessionId: `s-${n % 50}`,
    status: ["running", "idle", "waiting"][n % 3],
    model: "large-2025-01",
    cwd: `/home/dev/src/project-${n % 40}`,
    usage: { inputTokens: 1000 + n, outputTokens: 300 + (n % 97), cacheRead: 52_000, cost: 0.0421 },
    recentTools: Array.from({ length: 20 }, (_, i) => ({
      tool: ["Edit", "Bash", "Read", "Grep"][(n + i) % 4],
      target: `src/components/panel-${(n + i) % 31}.tsx`,
      ms: (n * 7 + i * 13) % 900,
      ok: (n + i) % 11 !== 0,
    })),
    summary:
      `Refactoring the dashboard panels to stream updates; ${n} edits so far, tests green except "layout › resizes".`,
    updatedAt: 1745000000000 + n,
  };
}

/** Which generator the load tester publishes with. */
export type PayloadKind =
  /** `{pad: "xxx…"}` sized so the `message` frame is about `bytes` long; no key. */
  | "pad"
  /** {@linkcode sessionUpdate}s (~2 KB), keyed by the publisher's session. */
  | "session";

/** The envelope and fields around the pad: `{"type":"message","topic":…,"data":{…}}`. */
const PAD_OVERHEAD = 130;

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
 * The load tester's item maker for one publisher: publish number `i` →
 * `{topic, data, key?}`. Every `data` carries `kind` (latency is reported per
 * kind), `sentAt` (the publisher's clock, for end-to-end latency) and `i`.
 *
 * @example
 * ```ts
 * import { itemMaker } from "./payloads.ts";
 * const make = itemMaker({ payload: "session", bytes: 0, topic: "sessions", publisher: 3 });
 * make(0).key; // "s-3"
 * ```
 */
export function itemMaker(options: ItemMakerOptions): (i: number) => PublishItem {
  const { topic, publisher } = options;
  if (options.payload === "session") {
    const key = `s-${publisher}`;
    return (i) => ({
      topic,
      key,
      data: {
        kind: "session",
        sentAt: wallClockMs(),
        i,
        session: { ...sessionUpdate(i), sessionId: key },
      },
    });
  }
  const pad = "x".repeat(Math.max(0, options.bytes - PAD_OVERHEAD));
  return (i) => ({ topic, data: { kind: "pad", sentAt: wallClockMs(), i, pad } });
}

/** A copy of a {@linkcode tabTree} carrying `kind: "tree"`, this publish's `sentAt` and number `i`. */
export function stampTree(tree: object, i: number): Record<string, unknown> {
  return { ...tree, kind: "tree", sentAt: wallClockMs(), i };
}
