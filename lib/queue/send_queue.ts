/**
 * The per-client send queue: bounded in messages and bytes, ordered, and honest
 * about what it skips.
 *
 * Overflow walks a ladder:
 * 1. **send all** while the queue is within its limits;
 * 2. **coalesce**: messages superseded by a newer one with the same topic and
 *    key are removed first, oldest first;
 * 3. **drop oldest**: then the oldest messages are dropped;
 * 4. **disconnect**: {@linkcode SendQueue.health} turns `"slow"` when the queue
 *    stayed full longer than `slowTimeoutMs` or dropped more than `dropLimit`
 *    messages within `dropWindowMs`; the owner then closes with 4008.
 *
 * Every removed message becomes part of a {@linkcode GapRange} that takes its
 * place in the queue (merged with touching ranges), so a reader sees, per topic,
 * delivered seqs and gap ranges that cover every seq pushed, once and in order.
 * Control frames and gaps are never removed.
 *
 * @module
 */
import { MAX_GAP_BYTES } from "../protocol/encode.ts";
import type { GapReason, MessageOp } from "../protocol/frames.ts";
import { appendRanges, type GapRange } from "./gap_range.ts";

/** What the queue needs to know of a message. */
export interface QueuedMessage {
  readonly topic: string;
  readonly seq: number;
  readonly key?: string;
  /**
   * A `"patch"` depends on the value before it, so neither it nor the messages
   * of its key before it are coalesced away by later ones.
   */
  readonly op?: MessageOp;
  /** Encoded size in bytes, for the byte limit. */
  readonly bytes: number;
}

/**
 * What {@linkcode SendQueue.take} leaves in the queue while a large message is
 * being sent in chunks: the slots of `topics` (so each topic stays in order),
 * slots costing more than `maxCost` (they need chunking too; their topic joins
 * `topics`), and every control frame behind a held slot.
 */
export interface TakeHold {
  /** Topics whose slots stay; grows with the topics of held slots. */
  readonly topics: Set<string>;
  /** Bytes a slot may cost (message plus its gap frames) to be taken. */
  readonly maxCost: number;
}

/**
 * One entry taken from the queue, in send order: a control frame alone, or gap
 * ranges to send before a message (or alone, when the message was removed).
 */
export interface QueueEntry<M extends QueuedMessage> {
  /** A control frame, encoded (JSON text or MessagePack bytes). */
  readonly control: string | Uint8Array | undefined;
  readonly gaps: readonly GapRange[] | undefined;
  readonly message: M | undefined;
}

/** Options of {@linkcode SendQueue}. */
export interface SendQueueOptions {
  /**
   * Most messages held before the ladder starts.
   * @default {1024}
   */
  maxMessages?: number;
  /**
   * Most bytes of messages held before the ladder starts. At least one message is
   * always kept, however large.
   * @default {8388608}
   */
  maxBytes?: number;
  /**
   * `"overflow"` coalesces by key only when over the limits; `"always"` keeps just
   * the latest message per key at all times (used with a flush interval).
   * @default {"overflow"}
   */
  coalesce?: "overflow" | "always";
  /**
   * How long the queue may stay full (dropping) before it reports `"slow"`.
   * @default {10000}
   */
  slowTimeoutMs?: number;
  /**
   * How many drops within `dropWindowMs` make the queue report `"slow"`.
   * @default {10000}
   */
  dropLimit?: number;
  /**
   * The window for `dropLimit`.
   * @default {10000}
   */
  dropWindowMs?: number;
  /** Clock in ms, for tests. @default {Date.now} */
  now?: () => number;
}

/** The queue's verdict on its reader. */
export type QueueHealth = "ok" | "overflowing" | "slow";

interface Slot<M extends QueuedMessage> extends QueueEntry<M> {
  /** A message; or undefined for a control frame or a gap-only slot. */
  message: M | undefined;
  control: string | Uint8Array | undefined;
  gaps: GapRange[] | undefined;
  /** The topic of a message or gap-only slot. */
  topic: string | undefined;
  bytes: number;
  /** Previous and next live slot of the same topic (while the queue is indexed). */
  tPrev: Slot<M> | undefined;
  tNext: Slot<M> | undefined;
  live: boolean;
}

interface TopicList<M extends QueuedMessage> {
  head: Slot<M> | undefined;
  tail: Slot<M> | undefined;
}

/**
 * A bounded, byte-accounted FIFO of messages for one client, with the
 * coalesce → drop-oldest → disconnect ladder. See the module docs.
 *
 * @example
 * ```ts
 * import { SendQueue } from "./send_queue.ts";
 * const q = new SendQueue({ maxMessages: 2 });
 * q.push({ topic: "t", seq: 1, key: "a", bytes: 10 });
 * q.push({ topic: "t", seq: 2, key: "a", bytes: 10 });
 * q.push({ topic: "t", seq: 3, key: "b", bytes: 10 }); // over: seq 1 is coalesced away
 * q.take(1 << 20).map((e) => [e.gaps?.length ?? 0, e.message?.seq]); // [[1, 2], [0, 3]]
 * ```
 */
export class SendQueue<M extends QueuedMessage> {
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  /** Coalescing always, by configuration (flush mode)… */
  readonly #alwaysByConfig: boolean;
  /** …or for now, while the reader is behind (see {@linkcode SendQueue.setEagerCoalescing}). */
  #coalesceAlways: boolean;
  readonly #slowTimeoutMs: number;
  readonly #dropLimit: number;
  readonly #dropWindowMs: number;
  readonly #now: () => number;

  #slots: Slot<M>[] = [];
  /**
   * Topic lists and the key index are only kept once the ladder needs them (or
   * always, when coalescing always); a queue that keeps up never pays for them.
   */
  #indexed: boolean;
  #head = 0;
  #liveSlots = 0;
  #messages = 0;
  #controls = 0;
  #controlBytes = 0;
  #bytes = 0;
  #topics = new Map<string, TopicList<M>>();
  #latestByKey = new Map<string, Slot<M>>();
  #superseded: Slot<M>[] = [];
  #supersededHead = 0;

  #droppedTotal = 0;
  #coalescedTotal = 0;
  #fullSince: number | undefined;
  #windowStart = 0;
  #windowDrops = 0;

  constructor(options: SendQueueOptions = {}) {
    this.#maxMessages = positive("maxMessages", options.maxMessages ?? 1024);
    this.#maxBytes = positive("maxBytes", options.maxBytes ?? 8 * 1024 * 1024);
    this.#alwaysByConfig = (options.coalesce ?? "overflow") === "always";
    this.#coalesceAlways = this.#alwaysByConfig;
    this.#slowTimeoutMs = options.slowTimeoutMs ?? 10_000;
    this.#dropLimit = options.dropLimit ?? 10_000;
    this.#dropWindowMs = options.dropWindowMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#indexed = this.#coalesceAlways;
  }

  /** Messages and control frames held. */
  get length(): number {
    return this.#liveSlots;
  }

  /** Messages held. */
  get messages(): number {
    return this.#messages;
  }

  /** Bytes held (messages and control frames). */
  get bytes(): number {
    return this.#bytes;
  }

  /** True when nothing is left to take, gaps included. */
  get isEmpty(): boolean {
    return this.#liveSlots === 0;
  }

  /** True while the ladder is dropping (the queue stayed full); see {@linkcode SendQueue.health}. */
  get overflowing(): boolean {
    return this.#fullSince !== undefined;
  }

  /** Messages dropped (rung 3) since creation. */
  get droppedTotal(): number {
    return this.#droppedTotal;
  }

  /** Messages coalesced away (rung 2) since creation. */
  get coalescedTotal(): number {
    return this.#coalescedTotal;
  }

  /**
   * Appends a message, then walks the ladder while over the limits.
   *
   * @returns how many messages were removed to make room.
   */
  push(message: M): number {
    const slot = newSlot<M>(message, undefined, message.topic, message.bytes);
    this.#append(slot);
    this.#messages++;
    let removed = 0;
    if (this.#indexed) removed += this.#index(slot);
    if (this.#overLimits()) {
      this.#ensureIndex();
      removed += this.#walkLadder();
    }
    return removed;
  }

  /** Adds a slot to its topic list and the key index; coalesces at once when coalescing always. */
  #index(slot: Slot<M>): number {
    this.#link(slot, slot.topic as string);
    const message = slot.message;
    if (message === undefined || message.key === undefined) return 0;
    const id = `${message.topic}\u0000${message.key}`;
    if (message.op === "patch") {
      // A patch builds on what came before it: nothing up to it may be coalesced away.
      this.#latestByKey.delete(id);
      return 0;
    }
    const older = this.#latestByKey.get(id);
    this.#latestByKey.set(id, slot);
    if (!older) return 0;
    if (this.#coalesceAlways) {
      this.#remove(older, "coalesced");
      this.#coalescedTotal++;
      return 1;
    }
    this.#superseded.push(older);
    if (this.#superseded.length - this.#supersededHead > 2 * this.#maxMessages + 64) {
      this.#superseded = this.#superseded.slice(this.#supersededHead).filter((s) =>
        s.live && s.message !== undefined
      );
      this.#supersededHead = 0;
    }
    return 0;
  }

  /**
   * While on, keeps only the latest message per key, as `coalesce: "always"`
   * does, and removes the superseded ones queued now: for a reader that fell
   * behind, the newest state per key is worth more than every step to it.
   *
   * @returns how many messages were coalesced away at once.
   */
  setEagerCoalescing(on: boolean): number {
    if (this.#alwaysByConfig || on === this.#coalesceAlways) return 0;
    this.#coalesceAlways = on;
    if (!on) return 0;
    const before = this.#coalescedTotal;
    this.#ensureIndex(); // an index built now coalesces as it goes
    this.#coalesceSuperseded(always);
    return this.#coalescedTotal - before;
  }

  /** The oldest message held, if any (control frames and gaps are skipped). */
  oldest(): M | undefined {
    for (let i = this.#head; i < this.#slots.length; i++) {
      const slot = this.#slots[i];
      if (slot.live && slot.message !== undefined) return slot.message;
    }
    return undefined;
  }

  /**
   * Rung 3 by age instead of size: drops, oldest first, every message `stale`
   * picks (always keeping the newest message), each reported as a `dropped` gap.
   * For a reader that reads, but too slowly: what it cannot read in time goes,
   * so what it reads stays recent.
   *
   * @returns how many messages were dropped.
   */
  dropStale(stale: (message: M) => boolean): number {
    if (this.#messages <= 1) return 0;
    this.#ensureIndex();
    return this.#dropOldest(stale, always);
  }

  /**
   * Gives up memory under pressure: coalesces superseded messages, then drops
   * the oldest (always keeping the newest), each reported as a gap, until the
   * queue holds at most `targetBytes` (control frames are never removed).
   *
   * @returns the bytes it let go of.
   */
  shed(targetBytes: number): number {
    const before = this.#bytes;
    if (before <= targetBytes || this.#messages === 0) return 0;
    this.#ensureIndex();
    const over = () => this.#bytes > targetBytes;
    this.#coalesceSuperseded(over);
    if (over()) this.#dropOldest(always, over);
    return before - this.#bytes;
  }

  /** Builds the topic lists and key index from the live slots, in order. */
  #ensureIndex(): void {
    if (this.#indexed) return;
    this.#indexed = true;
    for (let i = this.#head; i < this.#slots.length; i++) {
      const slot = this.#slots[i];
      if (slot.live && slot.topic !== undefined) this.#index(slot);
    }
  }

  /** Appends a control frame. Control frames are never removed by the ladder. */
  pushControl(frame: string | Uint8Array, bytes: number = frame.length): void {
    this.#append(newSlot<M>(undefined, frame, undefined, bytes));
    this.#controls++;
    this.#controlBytes += bytes;
  }

  /**
   * Appends a gap found outside the queue (history or bus loss), after every
   * queued message of its topic. Gaps are never removed by the ladder.
   */
  pushGap(gap: GapRange): void {
    this.#ensureIndex();
    const tail = this.#topics.get(gap.topic)?.tail;
    if (tail && tail.message === undefined) {
      tail.gaps = appendRanges(tail.gaps, [gap]);
      return;
    }
    const slot = newSlot<M>(undefined, undefined, gap.topic, 0);
    slot.gaps = [gap];
    this.#link(slot, gap.topic);
    this.#append(slot);
  }

  /**
   * Takes items for one frame, in order: gaps and messages costing up to
   * `maxBytes` (at least one; each gap range counts {@linkcode MAX_GAP_BYTES}),
   * stopping before a control frame; or a control frame alone. With `hold`,
   * takes around the slots it holds (see {@linkcode TakeHold}), possibly nothing.
   */
  take(maxBytes: number, hold?: TakeHold): QueueEntry<M>[] {
    if (hold !== undefined) return this.#takeAround(maxBytes, hold);
    const out: QueueEntry<M>[] = [];
    let size = 0;
    while (this.#head < this.#slots.length) {
      const slot = this.#slots[this.#head];
      if (!slot.live) {
        this.#head++;
        continue;
      }
      if (slot.control !== undefined && out.length > 0) break;
      const cost = slot.gaps === undefined ? slot.bytes : costOf(slot);
      if (out.length > 0 && size + cost > maxBytes) break;
      this.#head++;
      out.push(entryOf(slot));
      this.#consume(slot);
      if (out[out.length - 1].control !== undefined) break;
      size += cost;
    }
    this.#afterTake();
    return out;
  }

  #takeAround(maxBytes: number, hold: TakeHold): QueueEntry<M>[] {
    const out: QueueEntry<M>[] = [];
    let size = 0;
    let held = false;
    for (let i = this.#head; i < this.#slots.length; i++) {
      const slot = this.#slots[i];
      if (!slot.live) continue;
      if (slot.control !== undefined) {
        if (held || out.length > 0) break;
        out.push(entryOf(slot));
        this.#consume(slot);
        break;
      }
      const cost = costOf(slot);
      const topic = slot.topic as string;
      if (hold.topics.has(topic) || cost > hold.maxCost) {
        hold.topics.add(topic);
        held = true;
        continue;
      }
      if (out.length > 0 && size + cost > maxBytes) break;
      out.push(entryOf(slot));
      this.#consume(slot);
      size += cost;
    }
    this.#skipDeadHead();
    this.#afterTake();
    return out;
  }

  #afterTake(): void {
    this.#compact();
    if (
      this.#fullSince !== undefined && this.#messages <= this.#maxMessages / 2 &&
      this.#bytes <= this.#maxBytes / 2
    ) {
      this.#fullSince = undefined;
    }
  }

  /**
   * The queue's verdict: `"ok"`; `"overflowing"` while the ladder is dropping;
   * `"slow"` once it stayed full longer than `slowTimeoutMs`, dropped more than
   * `dropLimit` within `dropWindowMs`, or its control frames (never dropped)
   * hold more than `maxBytes` (one alone, a large snapshot, may).
   */
  health(): QueueHealth {
    if (this.#controls > 1 && this.#controlBytes > this.#maxBytes) return "slow";
    if (this.#windowDrops > this.#dropLimit) return "slow";
    if (this.#fullSince === undefined) return "ok";
    return this.#now() - this.#fullSince > this.#slowTimeoutMs ? "slow" : "overflowing";
  }

  #link(slot: Slot<M>, topic: string): void {
    let list = this.#topics.get(topic);
    if (!list) {
      list = { head: undefined, tail: undefined };
      this.#topics.set(topic, list);
    }
    if (list.tail) {
      list.tail.tNext = slot;
      slot.tPrev = list.tail;
    } else {
      list.head = slot;
    }
    list.tail = slot;
  }

  #append(slot: Slot<M>): void {
    this.#slots.push(slot);
    this.#liveSlots++;
    this.#bytes += slot.bytes;
  }

  #overLimits(): boolean {
    return this.#messages > this.#maxMessages || this.#bytes > this.#maxBytes;
  }

  #walkLadder(): number {
    const over = () => this.#overLimits();
    const coalesced = this.#coalesceSuperseded(over);
    if (!over()) return coalesced;
    this.#fullSince ??= this.#now();
    return coalesced + this.#dropOldest(always, over);
  }

  /** Rung 2: removes superseded messages, oldest first, while `more()` says so. */
  #coalesceSuperseded(more: () => boolean): number {
    let removed = 0;
    while (more() && this.#supersededHead < this.#superseded.length) {
      const slot = this.#superseded[this.#supersededHead++];
      if (!slot.live || slot.message === undefined) continue;
      this.#remove(slot, "coalesced");
      removed++;
    }
    this.#coalescedTotal += removed;
    return removed;
  }

  /**
   * Rung 3: drops, oldest first, the messages `pick` chooses while `more()`
   * says so, always keeping the newest message; counts them in the drop window.
   */
  #dropOldest(pick: (message: M) => boolean, more: () => boolean): number {
    const now = this.#now();
    if (now - this.#windowStart > this.#dropWindowMs) {
      this.#windowStart = now;
      this.#windowDrops = 0;
    }
    this.#skipDeadHead();
    let dropped = 0;
    for (let i = this.#head; i < this.#slots.length && this.#messages > 1 && more(); i++) {
      const slot = this.#slots[i];
      if (!slot.live || slot.message === undefined || !pick(slot.message)) continue;
      this.#remove(slot, "dropped");
      dropped++;
    }
    this.#droppedTotal += dropped;
    this.#windowDrops += dropped;
    this.#skipDeadHead();
    this.#compact();
    return dropped;
  }

  /**
   * Removes a queued message. Its seq (and any gap it carried) moves to the next
   * slot of its topic; with none, the slot stays in place as a gap-only slot, so
   * the gap keeps its position after older slots of the topic.
   */
  #remove(slot: Slot<M>, reason: GapReason): void {
    const m = slot.message as M;
    const ranges = appendRanges(slot.gaps, [{
      topic: m.topic,
      fromSeq: m.seq,
      toSeq: m.seq,
      reason,
    }]);
    const next = slot.tNext;
    const prev = slot.tPrev;
    if (next) {
      next.gaps = appendRanges(ranges, next.gaps);
      this.#consume(slot);
    } else if (prev && prev.message === undefined) {
      prev.gaps = appendRanges(prev.gaps, ranges);
      this.#consume(slot);
    } else {
      this.#forgetMessage(slot);
      this.#bytes -= slot.bytes;
      slot.message = undefined;
      slot.bytes = 0;
      slot.gaps = ranges;
    }
  }

  /**
   * Marks a slot as gone (taken or removed), unlinks it and lets go of what it
   * held: a dead slot may stay in the slot array until compaction reaches it,
   * but keeps no message, frame or gap alive.
   */
  #consume(slot: Slot<M>): void {
    slot.live = false;
    this.#liveSlots--;
    this.#bytes -= slot.bytes;
    if (slot.control !== undefined) {
      this.#controls--;
      this.#controlBytes -= slot.bytes;
      slot.control = undefined;
      return;
    }
    if (!this.#indexed) {
      if (slot.message !== undefined) this.#messages--;
      slot.message = undefined;
      slot.gaps = undefined;
      return;
    }
    const topic = slot.topic as string;
    const list = this.#topics.get(topic) as TopicList<M>;
    if (slot.tPrev) slot.tPrev.tNext = slot.tNext;
    else list.head = slot.tNext;
    if (slot.tNext) slot.tNext.tPrev = slot.tPrev;
    else list.tail = slot.tPrev;
    if (!list.head) this.#topics.delete(topic);
    slot.tPrev = slot.tNext = undefined;
    this.#forgetMessage(slot);
    slot.message = undefined;
    slot.gaps = undefined;
  }

  /** Drops the message's counts and key index entry (the slot may live on as a gap). */
  #forgetMessage(slot: Slot<M>): void {
    const m = slot.message;
    if (m === undefined) return;
    this.#messages--;
    if (m.key !== undefined) {
      const id = `${m.topic}\u0000${m.key}`;
      if (this.#latestByKey.get(id) === slot) this.#latestByKey.delete(id);
    }
  }

  #skipDeadHead(): void {
    while (this.#head < this.#slots.length && !this.#slots[this.#head].live) this.#head++;
  }

  #compact(): void {
    if (this.#head === this.#slots.length) {
      this.#slots = [];
      this.#head = 0;
      if (this.#indexed && !this.#coalesceAlways) {
        this.#indexed = false;
        this.#topics.clear();
        this.#latestByKey.clear();
      }
      this.#superseded = [];
      this.#supersededHead = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#slots.length) {
      this.#slots = this.#slots.slice(this.#head);
      this.#head = 0;
    }
  }
}

/** What a taken slot hands out: a copy, so the dead slot left behind holds nothing. */
function entryOf<M extends QueuedMessage>(slot: Slot<M>): QueueEntry<M> {
  return { control: slot.control, gaps: slot.gaps, message: slot.message };
}

/** A condition that always holds. */
function always(): boolean {
  return true;
}

/** What a slot adds to a frame: its message and an upper bound for each of its gap frames. */
function costOf(slot: { bytes: number; gaps: GapRange[] | undefined }): number {
  return slot.gaps === undefined ? slot.bytes : slot.bytes + slot.gaps.length * MAX_GAP_BYTES;
}

function newSlot<M extends QueuedMessage>(
  message: M | undefined,
  control: string | Uint8Array | undefined,
  topic: string | undefined,
  bytes: number,
): Slot<M> {
  return {
    message,
    control,
    topic,
    bytes,
    gaps: undefined,
    tPrev: undefined,
    tNext: undefined,
    live: true,
  };
}

function positive(name: string, value: number): number {
  if (!(value > 0)) throw new RangeError(`SendQueue option "${name}" must be > 0, got ${value}`);
  return value;
}
