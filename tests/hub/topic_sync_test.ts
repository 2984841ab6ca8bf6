import assert from "node:assert/strict";
import type {
  Bus,
  Envelope,
  HistoryPage,
  PublishRequest,
  TopicSnapshot,
} from "../../lib/bus/bus.ts";
import { MemoryBus } from "../../lib/bus/bus_memory.ts";
import { Hub } from "../../lib/hub/hub.ts";
import { Logger } from "../../lib/log/logger.ts";
import type { GapRange } from "../../lib/queue/gap_range.ts";
import { MemorySocket } from "../_support/memory_socket.ts";

/**
 * A bus whose reads take time, as over a network: messages published while a
 * subscription syncs must be held and handed over without loss or doubling.
 */
class SlowReadBus implements Bus {
  readonly name = "slow-read";
  readonly inner = new MemoryBus();
  readonly epoch = this.inner.epoch;
  readDelayMs = 20;
  onRead: () => Promise<void> = () => Promise.resolve();
  publish(r: readonly PublishRequest[]): Promise<Envelope[]> {
    return this.inner.publish(r);
  }
  onMessage(h: (e: Envelope) => void): void {
    this.inner.onMessage(h);
  }
  onGap(h: (g: GapRange) => void): void {
    this.inner.onGap(h);
  }
  watch(t: string): Promise<void> {
    return this.inner.watch(t);
  }
  onEpochChange(h: (epoch: string) => void): void {
    this.inner.onEpochChange(h);
  }
  unwatch(t: string): void {
    this.inner.unwatch(t);
  }
  async snapshot(t: string): Promise<TopicSnapshot> {
    const snap = await this.inner.snapshot(t);
    await this.onRead();
    await new Promise((r) => setTimeout(r, this.readDelayMs));
    return snap;
  }
  async history(t: string, after: number, limit: number): Promise<HistoryPage> {
    const page = await this.inner.history(t, after, limit);
    await this.onRead();
    await new Promise((r) => setTimeout(r, this.readDelayMs));
    return page;
  }
  health() {
    return this.inner.health();
  }
  held(now: number) {
    return this.inner.held(now);
  }
  counters() {
    return this.inner.counters();
  }
  close() {
    return this.inner.close();
  }
}

async function withHub(
  bus: Bus,
  queue: { maxMessages: number },
  fn: (hub: Hub) => Promise<void>,
): Promise<void> {
  const hub = new Hub({ bus, logger: new Logger({ level: "silent" }), queue, heartbeatMs: 60_000 });
  try {
    await fn(hub);
  } finally {
    await hub.shutdown(0);
  }
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const publishN = (hub: Hub, topic: string, n: number) =>
  hub.publish(Array.from({ length: n }, (_, i) => ({ topic, data: i })));

Deno.test("syncSubscription hands over messages published while the snapshot is read", async () => {
  const bus = new SlowReadBus();
  await withHub(bus, { maxMessages: 1024 }, async (hub) => {
    await publishN(hub, "t", 5);
    bus.onRead = () => publishN(hub, "t", 3).then(() => {}); // lands during the read
    const socket = new MemorySocket();
    hub.connect(socket, { remote: "test", topics: ["t"] });
    await until(() => socket.seqs("t").length === 3, "3 live messages");
    bus.onRead = () => Promise.resolve();
    await publishN(hub, "t", 2);
    await until(() => socket.seqs("t").length === 5, "5 messages");
    assert.deepEqual(socket.seqs("t"), [6, 7, 8, 9, 10]);
    const subscribed = socket.frames.find((f) => f.type === "subscribed");
    assert.deepEqual(subscribed, { type: "subscribed", topic: "t", seq: 5 });
  });
});

Deno.test("syncSubscription replays, then hands over what was published during the last read", async () => {
  const bus = new SlowReadBus();
  await withHub(bus, { maxMessages: 1024 }, async (hub) => {
    await publishN(hub, "t", 10);
    let reads = 0;
    bus.onRead = async () => {
      if (++reads === 2) await publishN(hub, "t", 4); // during the history read
    };
    const socket = new MemorySocket();
    const session = hub.connect(socket, { remote: "test" });
    hub.receive(session, JSON.stringify({ type: "subscribe", topics: ["t"], since: { t: 4 } }));
    await until(() => socket.seqs("t").length === 10, "10 messages");
    assert.deepEqual(socket.seqs("t"), [5, 6, 7, 8, 9, 10, 11, 12, 13, 14]);
    assert.equal(socket.frames.filter((f) => f.type === "gap").length, 0);
  });
});

Deno.test("syncSubscription reads more history when it had to let held messages go", async () => {
  const bus = new SlowReadBus();
  // A queue of 4 gives replay pages of 2 and holds at most 8 live messages while syncing.
  await withHub(bus, { maxMessages: 4 }, async (hub) => {
    await publishN(hub, "t", 3);
    let reads = 0;
    bus.onRead = async () => {
      if (++reads === 3) await publishN(hub, "t", 30); // during the last read: more than can be held
    };
    const socket = new MemorySocket();
    const session = hub.connect(socket, { remote: "test" });
    hub.receive(session, JSON.stringify({ type: "subscribe", topics: ["t"], since: { t: 0 } }));
    await until(() => socket.seqs("t").length === 33, "33 messages");
    assert.deepEqual(socket.seqs("t"), Array.from({ length: 33 }, (_, i) => i + 1));
    assert.equal(socket.frames.filter((f) => f.type === "gap").length, 0);
  });
});
