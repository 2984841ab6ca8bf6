/**
 * Brings a new subscription up to live: a snapshot for a fresh subscribe; for a
 * resume (`since`), an exact replay of the missed messages from the bus's
 * history, or a `gap` and a fresh snapshot when the history no longer reaches
 * back (or the epoch changed). Live messages published meanwhile are held by
 * the {@linkcode Subscription} and handed over without a seam: nothing is lost
 * or doubled.
 *
 * @module
 */
import type { Bus, Envelope, HistoryPage, TopicSnapshot } from "../bus/bus.ts";
import { encodeSubscribed } from "../protocol/encode.ts";
import type { ClientSession } from "./client_session.ts";
import type { Delivery } from "./delivery.ts";
import type { SnapshotBytes } from "./snapshot_cache.ts";
import type { Incoming, Subscription } from "./subscription.ts";

/** What a sync needs from the hub. */
export interface SyncContext {
  bus: Bus;
  /** Resolves once the bus delivers `topic` live (reads before that could miss messages). */
  ready(topic: string): Promise<void>;
  /** The shared encoded form of an envelope (cached per envelope). */
  deliveryOf(env: Envelope): Delivery;
  /** The shared `snapshot` frame of a topic's state (cached per topic and seq). */
  snapshotOf(topic: string, snap: TopicSnapshot): SnapshotBytes | undefined;
  /** Messages read from history per step; the queue is refilled in steps this size. */
  pageSize: number;
  /** Called after items were queued for the session. */
  wake(session: ClientSession): void;
  /** Counts replayed messages, for metrics. */
  onReplayed(count: number): void;
}

/** Where the client says it stands. */
export interface ResumePoint {
  /** The last seq the client has; undefined for a fresh subscribe. */
  since?: number;
  /** The epoch `since` belongs to; undefined means "the current one". */
  epoch?: string;
}

/**
 * Runs the sync of `sub` for `session`. Resolves when the subscription is live
 * (or was dropped: unsubscribed, disconnected).
 */
export async function syncSubscription(
  session: ClientSession,
  sub: Subscription,
  point: ResumePoint,
  ctx: SyncContext,
): Promise<void> {
  const topic = sub.topic;
  const stale = () => session.closed || session.subscriptions.get(topic) !== sub;
  await ctx.ready(topic);
  if (stale()) return;
  const snap = await ctx.bus.snapshot(topic);
  if (stale()) return;

  // Decide where the client starts: after a snapshot, or after its own `since`.
  const since = point.since;
  let page: HistoryPage | undefined;
  let cursor: number;
  if (since === undefined) {
    cursor = startFromSnapshot(session, ctx, topic, snap);
  } else if (point.epoch !== undefined && point.epoch !== ctx.bus.epoch) {
    cursor = startFromSnapshot(session, ctx, topic, snap, { since: 0, reason: "epoch_changed" });
  } else if (since >= snap.seq) {
    cursor = snap.seq; // nothing missed
  } else {
    page = await ctx.bus.history(topic, since, ctx.pageSize);
    if (stale()) return;
    if (page.firstSeq === 0 || page.firstSeq > since + 1) {
      page = undefined;
      cursor = startFromSnapshot(session, ctx, topic, snap, { since, reason: "history_exceeded" });
    } else {
      cursor = since;
    }
  }
  session.pushControl(encodeSubscribed(topic, cursor));

  // Replay from history a page at a time (refilling the queue as the client
  // drains it) until caught up with the held live messages.
  let lastSeen = cursor;
  for (;;) {
    if (page) {
      if (page.firstSeq > cursor + 1) {
        // Retention moved past the cursor while replaying.
        session.queue.pushGap({
          topic,
          fromSeq: cursor + 1,
          toSeq: page.firstSeq - 1,
          reason: "history_exceeded",
        });
        cursor = page.firstSeq - 1;
      }
      let replayed = 0;
      session.replaying(Date.now());
      for (const env of page.envelopes) {
        if (env.seq <= cursor) continue;
        session.queue.push(ctx.deliveryOf(env));
        cursor = env.seq;
        replayed++;
      }
      ctx.onReplayed(replayed);
      lastSeen = Math.max(page.lastSeq, cursor);
    }
    if (cursor >= lastSeen) {
      const held = sub.release(cursor);
      if (held) {
        for (const item of held) queueIncoming(session, item);
        ctx.wake(session);
        return;
      }
    }
    ctx.wake(session);
    await waitForRoom(session, ctx.pageSize, stale);
    if (stale()) return;
    page = await ctx.bus.history(topic, cursor, ctx.pageSize);
    if (stale()) return;
  }
}

/**
 * Queues the gap a resume could not fill (if any) and the topic's snapshot (if
 * it has keyed state); returns the snapshot's seq, where the client now stands.
 */
function startFromSnapshot(
  session: ClientSession,
  ctx: SyncContext,
  topic: string,
  snap: TopicSnapshot,
  gap?: { since: number; reason: "history_exceeded" | "epoch_changed" },
): number {
  if (gap && snap.seq > gap.since) {
    session.queue.pushGap({ topic, fromSeq: gap.since + 1, toSeq: snap.seq, reason: gap.reason });
  }
  const frame = ctx.snapshotOf(topic, snap);
  if (frame) session.pushControl(frame.frame);
  return snap.seq;
}

/** Queues a live message or a bus-reported gap. */
export function queueIncoming(session: ClientSession, item: Incoming): void {
  if ("fromSeq" in item) session.queue.pushGap(item);
  else session.queue.push(item);
}

async function waitForRoom(
  session: ClientSession,
  room: number,
  stale: () => boolean,
): Promise<void> {
  while (!stale() && session.queue.messages >= room) {
    await new Promise((r) => setTimeout(r, 10));
  }
}
