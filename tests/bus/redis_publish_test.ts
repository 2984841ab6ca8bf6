/**
 * Publishing batches on the Redis bus against a real redis-server (ignored,
 * with the reason, where none is installed): whole batches or nothing, limits
 * counted for the whole batch, patches merged before a seq is taken.
 */
import assert from "node:assert/strict";
import type { Envelope, PublishRequest } from "../../lib/bus/bus.ts";
import { RedisBus, type RedisBusOptions } from "../../lib/bus/bus_redis.ts";
import { Logger } from "../../lib/log/logger.ts";
import { ProtocolError } from "../../lib/protocol/protocol_error.ts";
import { hasRedis, redisMissing, RedisServer } from "../_support/redis_server.ts";
import { waitUntil } from "../_support/wait.ts";

async function withBus(
  options: Partial<RedisBusOptions>,
  fn: (bus: RedisBus, got: Envelope[], redis: RedisServer) => Promise<void>,
): Promise<void> {
  const redis = await RedisServer.start();
  const bus = await RedisBus.connect({
    url: redis.url,
    logger: new Logger({ level: "silent" }),
    prefix: "fgpub",
    ...options,
  });
  try {
    const got: Envelope[] = [];
    bus.onMessage((env) => got.push(env));
    await bus.watch("t");
    await fn(bus, got, redis);
  } finally {
    await bus.close();
    await redis.stop();
  }
}

async function refusal(pending: Promise<unknown>): Promise<ProtocolError> {
  const err = await pending.then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof ProtocolError, `expected a ProtocolError, got ${err}`);
  return err;
}

const keyed = (n: number, from = 0): PublishRequest[] =>
  Array.from(
    { length: n },
    (_, i) => ({ topic: "t", key: `k${from + i}`, data: i, ts: Date.now() }),
  );

Deno.test({
  name: `RedisBus.publish counts the keys a batch creates against maxKeysPerTopic${redisMissing}`,
  ignore: !hasRedis,
  async fn() {
    await withBus({ maxKeysPerTopic: 10 }, async (bus, got, redis) => {
      const err = await refusal(bus.publish(keyed(1000)));
      assert.equal(err.code, "limit_reached");
      assert.match(err.message, /^Nothing was published: .*past 10 keys \(--max-keys-per-topic\)/);
      assert.equal(await redis.cli("GET", "fgpub:{t}:seq"), "", "no seq was taken");
      assert.equal(await redis.cli("SCARD", "fgpub:topics"), "0", "not even the topic");
      await bus.publish(keyed(7));
      // 7 held + 4 new in one batch: refused whole, although each key alone would fit.
      await refusal(bus.publish([...keyed(3), ...keyed(4, 7)]));
      assert.deepEqual(await bus.snapshot("t").then((s) => s.seq), 7);
      // Rewriting held keys and repeating a new one within the batch counts once.
      await bus.publish([...keyed(7), ...keyed(3, 7), ...keyed(3, 7)]);
      // A delete in the batch does not make room (counted conservatively).
      await refusal(bus.publish([
        { topic: "t", key: "k0", op: "delete", data: null, ts: Date.now() },
        { topic: "t", key: "new", data: 1, ts: Date.now() },
      ]));
      const snap = await bus.snapshot("t");
      assert.equal(snap.seq, 20);
      assert.equal(Object.keys(snap.state ?? {}).length, 10);
      await waitUntil(() => got.length === 20, 5000, "20 deliveries");
      assert.deepEqual(got.map((e) => e.seq), Array.from({ length: 20 }, (_, i) => i + 1));
    });
  },
});

Deno.test({
  name: `RedisBus.publish counts the topics a batch creates against maxTopics${redisMissing}`,
  ignore: !hasRedis,
  async fn() {
    await withBus({ maxTopics: 3 }, async (bus, _got, redis) => {
      await bus.publish([{ topic: "t", data: 1, ts: Date.now() }]);
      const err = await refusal(
        bus.publish(["t", "b", "c", "d", "b"].map((topic) => ({ topic, data: 1, ts: Date.now() }))),
      );
      assert.equal(err.code, "limit_reached");
      assert.match(
        err.message,
        /holds 1 topics and this publish creates 3; the limit is 3 \(--max-topics\)/,
      );
      assert.equal(await redis.cli("GET", "fgpub:{t}:seq"), "1", "nothing of the batch published");
      await bus.publish(["b", "c", "t"].map((topic) => ({ topic, data: 2, ts: Date.now() })));
      assert.equal(await redis.cli("SCARD", "fgpub:topics"), "3");
    });
  },
});

Deno.test({
  name: `RedisBus.publish refuses a patch it cannot apply before taking a seq${redisMissing}`,
  ignore: !hasRedis,
  async fn() {
    await withBus({}, async (bus, got) => {
      await bus.publish([{ topic: "t", key: "k", data: { a: 1 }, ts: Date.now() }]);
      const deep = JSON.parse('{"a":'.repeat(20_000) + "1" + "}".repeat(20_000));
      const err = await refusal(bus.publish([
        { topic: "t", key: "other", data: 1, ts: Date.now() },
        { topic: "t", key: "k", op: "patch", data: deep, ts: Date.now() },
      ]));
      assert.equal(err.code, "invalid_frame");
      await bus.publish([{ topic: "t", data: "after", ts: Date.now() }]);
      await waitUntil(() => got.length === 2, 5000, "2 deliveries");
      assert.deepEqual(got.map((e) => e.seq), [1, 2]);
      assert.deepEqual(await bus.snapshot("t"), { seq: 2, state: { k: { a: 1 } } });
    });
  },
});

Deno.test({
  name: `RedisBus.publish merges patches of one key in a batch in order, atomically${redisMissing}`,
  ignore: !hasRedis,
  async fn() {
    await withBus({}, async (bus, got) => {
      const ts = Date.now();
      const envs = await bus.publish([
        { topic: "t", key: "k", op: "patch", data: { a: 1 }, ts },
        { topic: "t", key: "k", op: "patch", data: { b: 2 }, ts },
        { topic: "t", key: "j", data: { x: 1 }, ts },
        { topic: "t", key: "j", op: "patch", data: { x: null, y: 2 }, ts },
        { topic: "u", key: "gone", data: 1, ts },
        { topic: "u", key: "gone", op: "delete", data: null, ts },
        { topic: "u", key: "gone", op: "patch", data: { z: 1 }, ts },
        { topic: "t", data: "unkeyed", ts },
      ]);
      assert.deepEqual(envs.map((e) => [e.topic, e.seq]), [
        ["t", 1],
        ["t", 2],
        ["t", 3],
        ["t", 4],
        ["u", 1],
        ["u", 2],
        ["u", 3],
        ["t", 5],
      ]);
      assert.deepEqual(await bus.snapshot("t"), {
        seq: 5,
        state: { k: { a: 1, b: 2 }, j: { y: 2 } },
      });
      assert.deepEqual(await bus.snapshot("u"), { seq: 3, state: { gone: { z: 1 } } });
      await waitUntil(() => got.length === 5, 5000, "5 deliveries of t");
      assert.deepEqual(got.map((e) => e.op), ["patch", "patch", undefined, "patch", undefined]);
      assert.deepEqual(got[1].data, { b: 2 }, "delivered as the patch");
      const page = await bus.history("u", 0, 10);
      assert.deepEqual(page.envelopes.map((e) => e.op), [undefined, "delete", "patch"]);
    });
  },
});
