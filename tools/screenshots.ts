/**
 * Takes the README's dashboard screenshots (light and dark) against a live
 * server with simulated traffic: a session monitor of 36 keys updated 40 times
 * a second, three fast subscribers and one slow one.
 *
 * Run: `deno task screenshots [--seconds 45]` (needs /usr/bin/chromium).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { defaultSettings } from "../lib/config/settings.ts";
import { launchChromium } from "../lib/load/browser.ts";
import { Publisher } from "../lib/load/publisher.ts";
import { Subscriber } from "../lib/load/subscriber.ts";
import { startServer } from "../lib/server.ts";

const STATUSES = ["busy", "busy", "busy", "idle", "waiting", "done", "error"];
const TOOLS = ["Bash", "Edit", "Read", "Grep", "Write", "WebFetch"];

/** A session-monitor update for publish number `i`. */
function sessionUpdate(i: number) {
  const n = i % 36;
  const step = Math.floor(i / 36);
  return {
    topic: "sessions",
    key: `session-${String(n + 1).padStart(2, "0")}`,
    data: {
      status: STATUSES[(n * 3 + Math.floor(step / 4)) % STATUSES.length],
      tool: TOOLS[(n + step) % TOOLS.length],
      cwd: `~/src/project-${(n % 9) + 1}`,
      events: step * 3 + n,
      tokens: 1200 * step + 37 * n,
    },
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: { seconds: { type: "string", default: "45" } },
  });
  const seconds = Number(values.seconds);
  const out = new URL("../docs/screenshots/", import.meta.url);
  await Deno.mkdir(out, { recursive: true });
  const server = await startServer({
    ...defaultSettings(),
    port: 0,
    hostname: "127.0.0.1",
    logLevel: "warn",
    statsIntervalMs: 0,
  });
  const ws = `${server.url.replace("http", "ws")}/ws`;
  const subscribers = await Promise.all([
    ...[1, 2, 3].map(() => Subscriber.connect({ url: ws, topics: ["sessions"] })),
    Subscriber.connect({ url: ws, topics: ["sessions"], mode: { kind: "slow", slowMs: 150 } }),
  ]);
  const publisher = new Publisher({ url: server.url, rate: 40, makeItem: sessionUpdate });
  publisher.start();
  const browser = await launchChromium({ viewport: { width: 1280, height: 1000 } });
  try {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?topic=sessions`);
    console.log(`collecting ${seconds} s of traffic for the chart…`);
    await new Promise((r) => setTimeout(r, seconds * 1000));
    for (const scheme of ["light", "dark"] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForTimeout(1200); // one more $metrics sample, drawn in the new colours
      const path = new URL(`dashboard-${scheme}.png`, out).pathname;
      await page.screenshot({ path });
      console.log(`wrote ${path}`);
    }
  } finally {
    await browser.close();
    await publisher.stop();
    await Promise.all(subscribers.map((s) => s.disconnect()));
    await server.shutdown();
  }
}

if (import.meta.main) await main();
