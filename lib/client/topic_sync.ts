/**
 * One subscribed topic on the client: its handlers, the last seq seen (to
 * resume from), its keyed-state store, and the refetch that repairs the store
 * after a gap. Socket-free, so every rule here is unit-testable.
 *
 * @module
 */
import type { GapFrame, SnapshotFrame } from "../protocol/frames.ts";
import type { Emitter } from "./emitter.ts";
import { safeCall } from "./emitter.ts";
import type { ClientEvents, ClientGapReason, Message, MessageHandler } from "./events.ts";
import { KeyedState, type KeyedUpdate } from "./keyed_state.ts";

/** The body of `GET /topics/:topic/state`. */
export interface FetchedState {
  epoch: string;
  seq: number;
  state: Record<string, unknown>;
}

/** What a topic needs from its client. */
export interface TopicSyncContext {
  readonly events: Emitter<ClientEvents>;
  /** Refetch keyed state after gaps. */
  readonly refetchOnGap: boolean;
  /** Fetches the topic's state over HTTP. */
  fetchState(topic: string): Promise<FetchedState>;
  /** The epoch of the current connection. */
  epoch(): string | undefined;
}

interface Refetch {
  /** Messages received while the refetch is in flight, re-applied on top of its result. */
  buffer: Message[];
  /** Another gap arrived meanwhile: refetch again once this one is done. */
  again: boolean;
}

function toUpdate(m: Message, key: string): KeyedUpdate {
  return {
    key,
    seq: m.seq,
    ts: m.ts,
    data: m.data,
    patch: m.op === "patch",
    delete: m.op === "delete",
  };
}

/**
 * Seq tracking, keyed state and gap repair of one topic.
 *
 * Rules: messages at or below the last seq are duplicates and are skipped; a
 * jump in seqs without a `gap` is reported as a gap with reason `missing`; a
 * gap that may have skipped keyed updates marks the store stale and refetches
 * it (not for `coalesced` gaps, where a newer value of the same key follows,
 * unless the topic carries merge patches); during a resume, the refetch waits
 * for `subscribed` because the server sends a fresh snapshot itself.
 */
export class TopicSync {
  readonly topic: string;
  readonly handlers = new Set<MessageHandler>();
  /**
   * Held by `connect({topics})` or `state()`: stays subscribed when its last
   * handler is removed (only `unsubscribe(topic)` ends it).
   */
  pinned = false;
  /** Last seq received or skipped by a gap; undefined before the first `subscribed`. */
  lastSeq: number | undefined;
  /** `subscribed` arrived on the current connection. */
  live = false;
  /** Duplicates skipped (a replay overlapping what was already received). */
  duplicates = 0;
  readonly #ctx: TopicSyncContext;
  #store: KeyedState | undefined;
  #keyed = false;
  #usesPatches = false;
  #needsResync = false;
  #gotSnapshot = false;
  #refetch: Refetch | undefined;

  constructor(topic: string, ctx: TopicSyncContext) {
    this.topic = topic;
    this.#ctx = ctx;
  }

  /** The keyed-state store (created on first use). */
  get state(): KeyedState {
    if (!this.#store) {
      this.#store = new KeyedState(this.topic);
      this.#store.onChange((change) => this.#ctx.events.emit("state", change));
    }
    return this.#store;
  }

  /** True once the topic showed keyed state (a snapshot or a message with a key). */
  get keyed(): boolean {
    return this.#keyed;
  }

  /**
   * A new connection is about to resubscribe. With `epochChanged`, seqs start
   * over: the last seq is forgotten (after the caller took it for `since`) and
   * the store must be replaced by what the new epoch says.
   */
  beginRound(epochChanged: boolean): void {
    this.live = false;
    this.#gotSnapshot = false;
    this.#refetch = undefined; // a refetch of the old connection no longer applies
    if (epochChanged && this.lastSeq !== undefined) {
      this.lastSeq = 0;
      if (this.#keyed) this.#needsResync = true;
    }
  }

  /** Handles one `message`. */
  message(m: Message): void {
    if (this.lastSeq !== undefined) {
      if (m.seq <= this.lastSeq) {
        this.duplicates++;
        return;
      }
      if (m.seq > this.lastSeq + 1) this.gap(this.lastSeq + 1, m.seq - 1, "missing");
    }
    this.lastSeq = m.seq;
    if (m.key !== undefined) {
      this.#keyed = true;
      if (m.op === "patch") this.#usesPatches = true;
      this.state.update(toUpdate(m, m.key));
      this.#refetch?.buffer.push(m);
    } else this.#store?.advance(m.seq);
    for (const handler of [...this.handlers]) safeCall(handler, m);
    this.#ctx.events.emit("message", m);
  }

  /** Handles a `gap` frame, or a gap the client noticed itself. */
  gap(fromSeq: number, toSeq: number, reason: ClientGapReason): void {
    this.lastSeq = Math.max(this.lastSeq ?? 0, toSeq);
    this.#store?.advance(toSeq);
    const matters = this.#keyed && (reason !== "coalesced" || this.#usesPatches);
    let refetch = false;
    if (matters) {
      this.#store?.markStale();
      if (!this.live) {
        this.#needsResync = true; // the resume's snapshot (or our refetch at `subscribed`) repairs it
      } else if (this.#ctx.refetchOnGap) {
        refetch = true;
      }
    }
    this.#ctx.events.emit("gap", { topic: this.topic, fromSeq, toSeq, reason, refetch });
    if (refetch) this.refetch();
  }

  /** Handles a server `gap` frame. */
  gapFrame(f: GapFrame): void {
    if (this.lastSeq !== undefined && f.toSeq <= this.lastSeq && f.reason !== "epoch_changed") {
      this.duplicates++;
      return;
    }
    this.gap(f.fromSeq, f.toSeq, f.reason);
  }

  /** Handles a `snapshot`: it replaces the store and cancels a refetch in flight. */
  snapshot(f: SnapshotFrame): void {
    this.#keyed = true;
    this.#gotSnapshot = true;
    this.#needsResync = false;
    this.#refetch = undefined;
    this.lastSeq = f.seq;
    this.state.replace(f.state, f.seq, "snapshot");
    this.#ctx.events.emit("snapshot", { topic: this.topic, seq: f.seq, state: f.state });
  }

  /** Handles `subscribed`: the subscription is live from `seq` on. */
  subscribed(seq: number): void {
    this.live = true;
    const resync = this.#needsResync && !this.#gotSnapshot;
    this.#needsResync = false;
    if (this.lastSeq === undefined) this.lastSeq = seq;
    else if (seq > this.lastSeq) {
      this.gap(this.lastSeq + 1, seq, "missing"); // the server skipped seqs without a gap
    }
    this.#store?.advance(seq);
    if (resync && this.#ctx.refetchOnGap && !this.#refetch) this.refetch();
  }

  /**
   * Refetches the keyed state over HTTP, replaces the store with it, and
   * re-applies the messages that arrived meanwhile. One refetch at a time; a
   * gap during it triggers one more afterwards.
   */
  refetch(): void {
    if (this.#refetch) {
      this.#refetch.again = true;
      return;
    }
    const job: Refetch = { buffer: [], again: false };
    this.#refetch = job;
    this.#ctx.fetchState(this.topic).then((fetched) => {
      if (this.#refetch !== job) return; // superseded by a snapshot or a reconnect
      if (fetched.epoch !== this.#ctx.epoch()) {
        // The HTTP answer comes from another epoch (a restart in between); the
        // reconnect's resume repairs the store instead.
        return;
      }
      const store = this.state;
      store.replace(fetched.state, fetched.seq, "refetch");
      for (const m of job.buffer) {
        if (m.seq > fetched.seq && m.key !== undefined) store.update(toUpdate(m, m.key));
      }
      this.#ctx.events.emit("resync", { topic: this.topic, seq: fetched.seq });
    }, (err) => {
      this.#ctx.events.emit("error", {
        code: "refetch_failed",
        message: `Could not refetch the state of "${this.topic}": ${(err as Error).message}`,
        topic: this.topic,
      });
    }).finally(() => {
      if (this.#refetch !== job) return;
      this.#refetch = undefined;
      if (job.again) this.refetch();
    });
  }

  /** True while a refetch is in flight. */
  get refetching(): boolean {
    return this.#refetch !== undefined;
  }
}
