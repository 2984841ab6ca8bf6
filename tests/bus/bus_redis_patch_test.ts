/** Merge patches and deletes on the Redis bus: merged state shared by instances. */
import assert from "node:assert/strict";
import { RedisBus } from "../../lib/bus/bus_redis.ts";
import type { Envelope } from "../../lib/bus/bus.ts";
import { Logger } from "../../lib/log/logger.ts";
import { hasRedis, redisMissing, RedisServer } from "../_support/redis_server.ts";

Deno.test({
  name: `RedisBus merges concurrent patches from two instances without losing one${redisMissing}`,
  ignore: !hasRedis,
  async fn() {
    const redis = await RedisServer.start();
    const logger = new Logger({ level: "silent" });
    const a = await RedisBus.connect({ url: redis.url, logger, prefix: "fgpatch" });
    const b = await RedisBus.connect({ url: redis.url, logger, prefix: "fgpatch" });
    try {
      const got: Envelope[] = [];
      a.onMessage((env) => got.push(env));
      await a.watch("tabs");
      await a.publish([{
        topic: "tabs",
        key: "w",
        data: { title: "t", panes: {} },
        ts: Date.now(),
      }]);
      // 40 patches racing from both instances, each adding its own pane.
      await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          (i % 2 ? a : b).publish([
            {
              topic: "tabs",
              key: "w",
              op: "patch",
              data: { panes: { [`p${i}`]: i } },
              ts: Date.now(),
            },
          ])),
      );
      await b.publish([
        { topic: "tabs", key: "gone", data: 1, ts: Date.now() },
        { topic: "tabs", key: "gone", op: "delete", data: null, ts: Date.now() },
        { topic: "tabs", key: "w", op: "patch", data: { title: null }, ts: Date.now() },
      ]);
      const snap = await a.snapshot("tabs");
      assert.equal(snap.seq, 44);
      const panes = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`p${i}`, i]));
      assert.deepEqual(snap.state, { w: { panes } });
      for (let i = 0; i < 200 && got.length < 44; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(got.map((e) => e.seq), Array.from({ length: 44 }, (_, i) => i + 1));
      assert.equal(got[1].op, "patch");
      assert.equal(got[42].op, "delete");
      assert.equal(got[42].data, undefined, "a delete carries no data");
      const page = await b.history("tabs", 41, 10);
      assert.deepEqual(page.envelopes.map((e) => e.op), [undefined, "delete", "patch"]);
    } finally {
      await a.close();
      await b.close();
      await redis.stop();
    }
  },
});
