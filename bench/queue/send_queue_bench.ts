/** Cost of the per-client queue on its own: push/take in the common and overflow cases. */
import { SendQueue } from "../../lib/queue/send_queue.ts";

interface Msg {
  topic: string;
  seq: number;
  key?: string;
  bytes: number;
}

const messages: Msg[] = Array.from({ length: 1024 }, (_, i) => ({
  topic: "feed",
  seq: i + 1,
  key: `s${i % 50}`,
  bytes: 200,
}));

Deno.bench("SendQueue push+take, 8 messages per frame (keeping up)", {
  group: "queue",
  baseline: true,
}, () => {
  const q = new SendQueue<Msg>();
  for (let round = 0; round < 128; round++) {
    for (let i = 0; i < 8; i++) q.push(messages[(round * 8 + i) & 1023]);
    q.take(65536);
  }
});

Deno.bench(
  "SendQueue push at the limit, coalescing by key (slow reader)",
  { group: "queue" },
  () => {
    const q = new SendQueue<Msg>({ maxMessages: 64, slowTimeoutMs: Infinity, dropLimit: Infinity });
    for (let i = 0; i < 1024; i++) q.push(messages[i]);
  },
);

Deno.bench("SendQueue push at the limit, dropping oldest (unkeyed, stalled reader)", {
  group: "queue",
}, () => {
  const q = new SendQueue<Msg>({ maxMessages: 64, slowTimeoutMs: Infinity, dropLimit: Infinity });
  for (let i = 0; i < 1024; i++) q.push({ topic: "feed", seq: i + 1, bytes: 200 });
});
