/// <reference lib="dom" />
/**
 * The dashboard page and `/client.js` in a real browser: Debian's Chromium
 * driven by playwright-core, against a real server. Without /usr/bin/chromium
 * these tests are reported as ignored, with the reason in their names.
 */
import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import { type Browser, chromiumAvailable, launchChromium } from "../../lib/load/browser.ts";
import { Publisher } from "../../lib/load/publisher.ts";
import { type FloodgateServer, startServer } from "../../lib/server.ts";
import { publish, testSettings, withServer } from "../_support/server.ts";
import { signToken, TEST_SECRET } from "../_support/tokens.ts";
import { waitUntil } from "../_support/wait.ts";

const HAVE_CHROMIUM = chromiumAvailable();
const SUFFIX = HAVE_CHROMIUM ? "" : " [ignored: no /usr/bin/chromium; apt-get install -y chromium]";

/** Registers a Chromium test; ignored (and saying why) when Chromium is absent. */
function browserTest(name: string, fn: () => Promise<void>): void {
  Deno.test({
    name: `dashboard in Chromium: ${name}${SUFFIX}`,
    ignore: !HAVE_CHROMIUM,
    fn,
  });
}

async function withBrowser(fn: (browser: Browser) => Promise<void>): Promise<void> {
  const browser = await launchChromium();
  try {
    await fn(browser);
  } finally {
    await browser.close();
  }
}

interface RenderStats {
  passes: number;
  maxPassesPerFrame: number;
  mutationBatches: number;
  strayMutationBatches: number;
  messages: number;
  grid: { keys: number; mounted: number; cardRenders: number; virtual: boolean };
}

function renderStats(page: Page): Promise<RenderStats> {
  return page.evaluate(() =>
    (globalThis as unknown as { floodgateDashboard: { render(): RenderStats } })
      .floodgateDashboard.render()
  );
}

async function openDashboard(browser: Browser, server: FloodgateServer): Promise<Page> {
  const page = await browser.context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${server.url}/?topic=sessions`);
  await page.waitForSelector('#status[data-status="open"]', { timeout: 10_000 });
  assert.deepEqual(errors, [], "no script errors");
  return page;
}

function sessions(n: number, status: (i: number) => string) {
  return Array.from({ length: n }, (_, i) => ({
    topic: "sessions",
    key: `s-${i + 1}`,
    data: { status: status(i), tool: "Bash", cwd: `/src/p${i}` },
  }));
}

browserTest("the page loads and shows a card per published key", async () => {
  await withServer({ metricsIntervalMs: 200 }, async (server) => {
    await publish(server, sessions(5, () => "busy"));
    await withBrowser(async (browser) => {
      const page = await openDashboard(browser, server);
      await page.waitForFunction(() => document.querySelectorAll(".card").length === 5);
      const keys = await page.$$eval(".card .card-key", (els) => els.map((e) => e.textContent));
      assert.deepEqual(keys, ["s-1", "s-2", "s-3", "s-4", "s-5"]);
      assert.equal(await page.textContent('.card[data-key="s-3"] .badge'), "busy");
      assert.match((await page.textContent('.card[data-key="s-3"] dl')) ?? "", /cwd\/src\/p2/);
      // The service tiles fill in from $metrics.
      await page.waitForFunction(() =>
        document.querySelector('[data-tile="clients"] .tile-value')?.textContent === "1"
      );
      assert.equal(await page.textContent('[data-tile="compression"] .tile-value'), "off");
    });
  });
});

browserTest("a card updates when its key changes, and only that card re-renders", async () => {
  await withServer({}, async (server) => {
    await publish(server, sessions(20, () => "idle"));
    await withBrowser(async (browser) => {
      const page = await openDashboard(browser, server);
      await page.waitForFunction(() => document.querySelectorAll(".card").length === 20);
      const before = await renderStats(page);
      await publish(server, { topic: "sessions", key: "s-7", data: { status: "error", code: 2 } });
      await page.waitForFunction(() =>
        document.querySelector('.card[data-key="s-7"] .badge')?.textContent === "error"
      );
      const after = await renderStats(page);
      assert.equal(after.grid.cardRenders - before.grid.cardRenders, 1, "one card rendered");
      assert.equal(await page.textContent('.card[data-key="s-6"] .badge'), "idle");
      assert.match((await page.textContent('.card[data-key="s-7"] dl')) ?? "", /code2/);
    });
  });
});

browserTest("the page survives a server restart by reconnecting and resuming", async () => {
  let server = await startServer(testSettings());
  const port = server.port;
  try {
    await publish(server, sessions(3, () => "busy"));
    await withBrowser(async (browser) => {
      const page = await openDashboard(browser, server);
      await page.waitForFunction(() => document.querySelectorAll(".card").length === 3);
      await server.shutdown();
      await page.waitForSelector('#status:not([data-status="open"])');
      server = await startServer(testSettings({ port }));
      await publish(server, [
        { topic: "sessions", key: "s-1", data: { status: "restarted" } },
        { topic: "sessions", key: "s-9", data: { status: "new" } },
      ]);
      await page.waitForSelector('#status[data-status="open"]', { timeout: 15_000 });
      // The new epoch's snapshot replaces the old state: s-2 and s-3 are gone.
      await page.waitForFunction(() =>
        [...document.querySelectorAll(".card .card-key")].map((e) => e.textContent).join() ===
          "s-1,s-9"
      );
      assert.equal(await page.textContent('.card[data-key="s-1"] .badge'), "restarted");
      // And it keeps following live updates after the resume.
      await publish(server, { topic: "sessions", key: "s-9", data: { status: "busy" } });
      await page.waitForFunction(() =>
        document.querySelector('.card[data-key="s-9"] .badge')?.textContent === "busy"
      );
      const reconnects = await page.evaluate(() =>
        (globalThis as unknown as {
          floodgateDashboard: { client: { stats: { reconnects: number } } };
        }).floodgateDashboard.client.stats.reconnects
      );
      assert.ok(reconnects >= 1);
    });
  } finally {
    await server.shutdown();
  }
});

browserTest("at 100 updates/s the page renders at most one DOM update pass per frame", async () => {
  await withServer({}, async (server) => {
    await withBrowser(async (browser) => {
      const page = await openDashboard(browser, server);
      const before = await renderStats(page);
      const publisher = new Publisher({
        url: server.url,
        rate: 100,
        makeItem: (i) => ({
          topic: "sessions",
          key: `s-${i % 20}`,
          data: { status: ["busy", "idle"][i % 2], n: i },
        }),
      });
      publisher.start();
      await new Promise((r) => setTimeout(r, 3000));
      const report = await publisher.stop();
      await page.waitForFunction(
        (n) =>
          (globalThis as unknown as { floodgateDashboard: { render(): { messages: number } } })
            .floodgateDashboard.render().messages >= n,
        report.accepted,
      );
      await page.waitForTimeout(100); // let the last pass run
      const after = await renderStats(page);
      const messages = after.messages - before.messages;
      const passes = after.passes - before.passes;
      assert.ok(report.accepted >= 250, `published ${report.accepted}`);
      assert.equal(messages, report.accepted, "every update reached the page");
      assert.equal(after.maxPassesPerFrame, 1, "never two passes in one animation frame");
      assert.equal(after.strayMutationBatches, 0, "no DOM write outside a pass");
      assert.ok(after.mutationBatches <= after.passes, "one mutation batch per pass at most");
      assert.ok(passes > 0 && passes < messages, `${passes} passes for ${messages} updates`);
      const lag = await page.evaluate(() =>
        (globalThis as unknown as { floodgateDashboard: { lag(): { total: number; p99: number } } })
          .floodgateDashboard.lag()
      );
      assert.ok(lag.total >= messages, "the lag of every rendered update was measured");
      assert.ok(lag.p99 > 0);
    });
  });
});

browserTest("past a few hundred keys the grid mounts only the cards in view", async () => {
  await withServer({}, async (server) => {
    for (let start = 0; start < 2000; start += 1000) {
      await publish(
        server,
        Array.from({ length: 1000 }, (_, i) => ({
          topic: "sessions",
          key: `s-${start + i + 1}`,
          data: { status: "idle" },
        })),
      );
    }
    await withBrowser(async (browser) => {
      const page = await openDashboard(browser, server);
      await page.waitForFunction(() =>
        (globalThis as unknown as { floodgateDashboard: { render(): RenderStats } })
          .floodgateDashboard.render().grid.keys === 2000
      );
      await page.waitForTimeout(100);
      const stats = await renderStats(page);
      assert.equal(stats.grid.virtual, true);
      assert.ok(stats.grid.mounted < 200, `${stats.grid.mounted} cards mounted`);
      assert.equal(await page.$('.card[data-key="s-2000"]'), null, "the last card is not mounted");
      await page.evaluate(() => scrollTo(0, document.body.scrollHeight));
      await page.waitForSelector('.card[data-key="s-2000"]');
      assert.equal(await page.$('.card[data-key="s-1"]'), null, "the first card was unmounted");
    });
  });
});

browserTest(
  "/client.js runs the README's browser example from a page of another origin",
  async () => {
    await withServer({}, async (server) => {
      await withBrowser(async (browser) => {
        // A page served from another origin (another port), like an app using the SDK.
        const site = Deno.serve(
          { hostname: "127.0.0.1", port: 0, onListen() {} },
          () =>
            new Response("<!doctype html><title>app</title>", {
              headers: { "content-type": "text/html" },
            }),
        );
        const page = await browser.context.newPage();
        await page.goto(`http://127.0.0.1:${site.addr.port}/`);
        const result = page.evaluate(async (base) => {
          const { connect } = await import(`${base}/client.js`);
          const fg = connect(`${base.replace("http", "ws")}/ws`);
          const sessions = fg.state("sessions");
          const seen: string[] = [];
          fg.subscribe("sessions", (msg: { key: string; data: { status: string } }) => {
            seen.push(`${msg.key}=${msg.data.status}`);
          });
          await new Promise<void>((resolve) => {
            sessions.onChange(() => {
              if (sessions.size === 2) resolve();
            });
          });
          await fg.close();
          // Asking for MessagePack from a server without it must still connect in a browser.
          const packed = connect(`${base.replace("http", "ws")}/ws`, { codec: "msgpack" });
          await new Promise((resolve) => packed.once("open", resolve));
          const codec = packed.codec;
          await packed.close();
          return { seen, state: sessions.toObject(), codec };
        }, server.url).finally(() => site.shutdown());
        const settled = result.then(() => {}, () => {}); // awaited below; no unhandled rejection
        await Promise.race([
          waitUntil(() => server.hub.snapshotStats().topics === 1, 5000, "the subscription"),
          settled,
        ]);
        await publish(server, sessions(2, () => "busy"));
        const { seen, state, codec } = await result;
        assert.deepEqual(seen, ["s-1=busy", "s-2=busy"]);
        assert.deepEqual(Object.keys(state), ["s-1", "s-2"]);
        assert.equal(
          codec,
          "msgpack",
          "the browser asked for MessagePack and the server speaks it",
        );
      });
    });
  },
);

browserTest("with --jwt-secret the page signs in with ?token=", async () => {
  await withServer({ jwtSecret: TEST_SECRET, metricsIntervalMs: 200 }, async (server) => {
    const token = await signToken({ subscribe: ["sessions", "$metrics"] });
    await withBrowser(async (browser) => {
      const page = await browser.context.newPage();
      await page.goto(`${server.url}/?topic=sessions&token=${token}`);
      await page.waitForSelector('#status[data-status="open"]', { timeout: 10_000 });
      const publisher = await signToken({ publish: ["sessions"] });
      const res = await fetch(`${server.url}/publish`, {
        method: "POST",
        headers: { authorization: `Bearer ${publisher}` },
        body: JSON.stringify({ topic: "sessions", key: "s-1", data: { status: "busy" } }),
      });
      assert.equal(res.status, 202, await res.text());
      await page.waitForSelector('.card[data-key="s-1"]');
      await page.waitForFunction(() =>
        document.querySelector('[data-tile="clients"] .tile-value')?.textContent === "1"
      );
    });
  });
});
