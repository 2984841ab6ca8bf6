import { applyMergePatch } from "../protocol/merge_patch.ts";
import type { GapRange } from "../queue/gap_range.ts";
import type { Bus, BusHealth, Envelope, PublishRequest, TopicSnapshot } from "./bus.ts";

interface TopicRecord {
  seq: number;
  state: Map<string, unknown> | undefined;
}

/**
 * The in-process bus, the embedded default: seqs and keyed state live in this
 * process and delivery is synchronous, inside `publish`. Keeps every delivery
 * rule of {@linkcode Bus} trivially: nothing crosses a network.
 *
 * @example
 * ```ts
 * import { MemoryBus } from "./bus_memory.ts";
 * const bus = new MemoryBus();
 * bus.onMessage((env) => console.log(env.topic, env.seq));
 * bus.watch("sessions");
 * await bus.publish([{ topic: "sessions", key: "s1", data: 1, ts: Date.now() }]); // sessions 1
 * await bus.publish([{ topic: "sessions", key: "s2", op: "patch", data: { a: 1 }, ts: Date.now() }]);
 * (await bus.snapshot("sessions")).state; // { s1: 1, s2: { a: 1 } }
 * ```
 */
export class MemoryBus implements Bus {
  readonly name = "memory";
  readonly epoch: string;
  #topics = new Map<string, TopicRecord>();
  #watched = new Set<string>();
  #handler: (envelope: Envelope) => void = () => {};

  constructor(options: { epoch?: string } = {}) {
    this.epoch = options.epoch ?? crypto.randomUUID().slice(0, 8);
  }

  publish(requests: readonly PublishRequest[]): Promise<Envelope[]> {
    const out: Envelope[] = [];
    for (const req of requests) {
      let record = this.#topics.get(req.topic);
      if (!record) {
        record = { seq: 0, state: undefined };
        this.#topics.set(req.topic, record);
      }
      const env: Envelope = { ...req, seq: ++record.seq };
      if (req.key !== undefined) {
        const state = record.state ??= new Map();
        if (req.op === "delete") state.delete(req.key);
        else if (req.op === "patch") {
          state.set(req.key, applyMergePatch(state.get(req.key), req.data));
        } else state.set(req.key, req.data);
      }
      out.push(env);
      if (this.#watched.has(req.topic)) this.#handler(env);
    }
    return Promise.resolve(out);
  }

  onMessage(handler: (envelope: Envelope) => void): void {
    this.#handler = handler;
  }

  onGap(_handler: (gap: GapRange) => void): void {
    // Nothing crosses a network here, so nothing is ever lost.
  }

  watch(topic: string): void {
    this.#watched.add(topic);
  }

  unwatch(topic: string): void {
    this.#watched.delete(topic);
  }

  snapshot(topic: string): Promise<TopicSnapshot> {
    const record = this.#topics.get(topic);
    return Promise.resolve({
      seq: record?.seq ?? 0,
      state: record?.state ? Object.fromEntries(record.state) : undefined,
    });
  }

  health(): BusHealth {
    return { ok: true };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
