/**
 * The Redis bus against a real redis-server of its own (ignored, with the
 * reason, where none is installed): a hung Redis (SIGSTOP), a Redis that comes
 * up late, and history reads across a hole in the stream.
 */
import assert from "node:assert/strict";
import { BusUnavailableError, type Envelope } from "../../lib/bus/bus.ts";
import { RedisBus } from "../../lib/bus/bus_redis.ts";
import { Logger } from "../../lib/log/logger.ts";
import type { GapRange } from "../../lib/queue/gap_range.ts";
import { hasRedis, redisMissing, RedisServer } from "../_support/redis_server.ts";
import { waitUntil } from "../_support/wait.ts";

/** The pid of the redis-server process, to stop and continue it. */
async function pidOf(redis: RedisServer): Promise<number> {
  const m = /process_id:(\d+)/.exec(await redis.cli("INFO", "server"));
  assert.ok(m, "INFO server names the process id");
  return Number(m[1]);
}

/** Settles `p`, returning the error it rejects with (undefined when it resolves) and when. */
async function outcome(p: Promise<unknown>): Promise<{ err: unknown; at: number }> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  return { err, at: performance.now() };
}

Deno.test({
  name:
    `RedisBus fails publishes after commandTimeoutMs while Redis hangs, bounds those waiting, reports it in health and recovers${redisMissing}`,
  ignore: !hasRedis,
  async fn() {
    const redis = await RedisServer.start();
    const lines: string[] = [];
    const logger = new Logger({ level: "info", sink: (line) => lines.push(line) });
    const bus = await RedisBus.connect({
      url: redis.url,
      logger,
      prefix: "fghang",
      commandTimeoutMs: 300,
      maxPendingPublishes: 5,
    });
    const pid = await pidOf(redis);
    let stopped = false;
    try {
      const got: Envelope[] = [];
      const gaps: GapRange[] = [];
      bus.onMessage((env) => got.push(env));
      bus.onGap((gap) => gaps.push(gap));
      await bus.watch("t");
      await bus.publish([{ topic: "t", data: "before", ts: Date.now() }]);
      assert.deepEqual(bus.health(), { ok: true });

      Deno.kill(pid, "SIGSTOP");
      stopped = true;
      const start = performance.now();
      const waiting = Array.from(
        { length: 5 },
        (_, i) => outcome(bus.publish([{ topic: "t", data: `hung ${i}`, ts: Date.now() }])),
      );
      // Five wait on Redis; the sixth is refused at once, without waiting.
      const shed = await outcome(bus.publish([{ topic: "t", data: "shed", ts: Date.now() }]));
      assert.ok(shed.err instanceof BusUnavailableError);
      assert.match(shed.err.message, /5 publishes are already waiting on Redis/);
      assert.ok(shed.at - start < 200, `refused at once, not after ${shed.at - start} ms`);
      for (const { err, at } of await Promise.all(waiting)) {
        assert.ok(err instanceof BusUnavailableError, `expected BusUnavailableError, got ${err}`);
        assert.equal(err.message, "Redis did not answer within 300 ms");
        const ms = at - start;
        assert.ok(ms >= 250 && ms < 1500, `failed after ${Math.round(ms)} ms, about the timeout`);
      }
      const health = bus.health();
      assert.equal(health.ok, false);
      assert.match(health.detail ?? "", /^Redis did not answer within 300 ms/);
      // Still hung, and the five still wait on it: more publishes are refused at once.
      const again = await outcome(bus.publish([{ topic: "t", data: "again", ts: Date.now() }]));
      assert.ok(again.err instanceof BusUnavailableError);
      assert.ok(again.at - start < 1500);

      Deno.kill(pid, "SIGCONT");
      stopped = false;
      await waitUntil(() => bus.health().ok, 5000, "health to recover");
      await waitUntil(() => bus.counters().pendingPublishes === 0, 5000, "the hung publishes");
      const [after] = await bus.publish([{ topic: "t", data: "after", ts: Date.now() }]);
      // The publishes that were told they failed were not applied when Redis woke up.
      assert.equal(after.seq, 2);
      await waitUntil(() => got.length === 2, 5000, "delivery of seq 2");
      assert.deepEqual(got.map((e) => [e.seq, e.data]), [[1, "before"], [2, "after"]]);
      assert.deepEqual(gaps, []);
      const counters = bus.counters();
      assert.equal(counters.latePublishes, 0);
      assert.ok(counters.publishesShed >= 2);
      assert.ok(counters.commandTimeouts >= 5);
      const events = lines.map((line) => JSON.parse(line).event);
      assert.ok(events.includes("bus.redis_stalled"), events.join(","));
      assert.ok(events.includes("bus.redis_answering"), events.join(","));
    } finally {
      if (stopped) Deno.kill(pid, "SIGCONT");
      await bus.close();
      await redis.stop();
    }
  },
});

/** A loopback port nothing listens on. */
function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  return port;
}

Deno.test("RedisBus.connect logs each failed attempt and gives up after connectTimeoutMs", async () => {
  const url = `redis://:secret@127.0.0.1:${closedPort()}`;
  const lines: string[] = [];
  const logger = new Logger({ level: "warn", sink: (line) => lines.push(line) });
  const start = performance.now();
  const err = await RedisBus.connect({ url, logger, connectTimeoutMs: 600 }).then(
    (bus) => bus.close(),
    (e: unknown) => e,
  );
  const ms = performance.now() - start;
  assert.ok(err instanceof BusUnavailableError, `expected BusUnavailableError, got ${err}`);
  assert.match(
    err.message,
    /^Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ could not be reached within 0\.6 s \(\d+ failed attempts; last: .*ECONNREFUSED.*\)$/,
  );
  assert.ok(ms >= 550 && ms < 3000, `gave up after ${Math.round(ms)} ms`);
  const retries = lines.map((line) => JSON.parse(line));
  assert.ok(retries.length >= 3, `one warning per attempt: ${lines.length}`);
  assert.ok(retries.every((r) => r.event === "bus.redis_connect_retry" && r.level === "warn"));
  assert.deepEqual(retries.slice(0, 3).map((r) => r.attempt), [1, 2, 3]);
  assert.ok(!lines.join("\n").includes("secret"), "the password stays out of the logs");
  assert.equal(retries.at(-1).givingUp, true);
});

Deno.test({
  name:
    `RedisBus.connect keeps retrying until Redis comes up within connectTimeoutMs${redisMissing}`,
  ignore: !hasRedis,
  async fn() {
    const redis = await RedisServer.start();
    await redis.kill();
    const lines: string[] = [];
    const logger = new Logger({ level: "warn", sink: (line) => lines.push(line) });
    const connecting = RedisBus.connect({ url: redis.url, logger, connectTimeoutMs: 10_000 });
    try {
      await waitUntil(() => lines.length >= 2, 5000, "two failed attempts");
      await redis.restart();
      const bus = await connecting;
      await bus.publish([{ topic: "t", data: 1, ts: Date.now() }]);
      assert.ok(bus.health().ok);
      await bus.close();
      const retries = lines.map((line) => JSON.parse(line));
      assert.ok(retries.every((r) => r.event === "bus.redis_connect_retry" && r.level === "warn"));
      assert.deepEqual(
        retries.filter((r) => r.role === "commands").slice(0, 2).map((r) => r.attempt),
        [1, 2],
      );
      assert.match(retries[0].error, /ECONNREFUSED/);
    } finally {
      await connecting.then((bus) => bus.close(), () => {});
      await redis.stop();
    }
  },
});

Deno.test({
  name:
    `RedisBus.connect gives up after connectTimeoutMs on a Redis that accepts connections but never answers${redisMissing}`,
  ignore: !hasRedis,
  async fn() {
    const redis = await RedisServer.start();
    const pid = await pidOf(redis);
    Deno.kill(pid, "SIGSTOP");
    try {
      const logger = new Logger({ level: "silent" });
      const start = performance.now();
      const { err, at } = await outcome(
        RedisBus.connect({ url: redis.url, logger, connectTimeoutMs: 500 }),
      );
      assert.ok(err instanceof BusUnavailableError, `expected BusUnavailableError, got ${err}`);
      assert.match(err.message, /could not be reached within 0\.5 s .*did not answer/);
      assert.ok(at - start < 2500, `gave up after ${Math.round(at - start)} ms`);
    } finally {
      Deno.kill(pid, "SIGCONT");
      await redis.stop();
    }
  },
});

Deno.test({
  name: `RedisBus.history reports a hole in the stream as seqs below firstSeq${redisMissing}`,
  ignore: !hasRedis,
  async fn() {
    const redis = await RedisServer.start();
    const bus = await RedisBus.connect({
      url: redis.url,
      logger: new Logger({ level: "silent" }),
      prefix: "fghole",
    });
    try {
      const ts = Date.now();
      await bus.publish([1, 2, 3, 4, 5].map((data) => ({ topic: "t", data, ts })));
      await redis.cli("XDEL", "fghole:{t}:hist", "2-0", "5-0");
      const page = (after: number) =>
        bus.history("t", after, 10).then((p) => ({
          seqs: p.envelopes.map((e) => e.seq),
          firstSeq: p.firstSeq,
          lastSeq: p.lastSeq,
        }));
      assert.deepEqual(await page(0), { seqs: [1], firstSeq: 1, lastSeq: 5 });
      assert.deepEqual(await page(1), { seqs: [3, 4], firstSeq: 3, lastSeq: 5 });
      assert.deepEqual(await page(4), { seqs: [], firstSeq: 6, lastSeq: 5 });
    } finally {
      await bus.close();
      await redis.stop();
    }
  },
});
