/** Test helpers for SendQueue: compact pictures of what `take` returned. */
import type { QueuedMessage, QueueEntry } from "../../lib/queue/send_queue.ts";

/** "t1" for a message, "gap t:1-2 dropped" for a gap, "control x" for a control frame. */
export function describe<M extends QueuedMessage>(entries: QueueEntry<M>[]): string[] {
  const out: string[] = [];
  for (const e of entries) {
    if (e.control !== undefined) out.push(`control ${e.control}`);
    for (const g of e.gaps ?? []) out.push(`gap ${g.topic}:${g.fromSeq}-${g.toSeq} ${g.reason}`);
    if (e.message) out.push(`${e.message.topic}${e.message.seq}`);
  }
  return out;
}
