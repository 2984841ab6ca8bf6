/**
 * The demo's side-by-side comparison of naive mode and Floodgate's queues, and
 * its verdict in plain words.
 *
 * @module
 */
import { fmtBytes, fmtCloses, fmtMs, fmtNum, fmtPct, textTable } from "./format.ts";
import type { LoadResult } from "./load_result.ts";

/** What the demo shows of one mode's run. */
export interface DemoSide {
  /** Messages/s each fast client got, on average, and the rate published. */
  fastPerSec: number;
  expectedPerSec: number;
  fastP50: number;
  fastP99: number;
  fastMax: number;
  /** Messages a fast client received by the end (settle included), on average, of those published. */
  fastReceived: number;
  published: number;
  slowPerSec: number;
  slowP99: number;
  /** Seqs the slow client was told it would not get. */
  slowGapped: number;
  slowCloses: Record<string, number>;
  rssMaxBytes: number | undefined;
  cpuAvgPercent: number | undefined;
}

/** The figures of one run the demo compares. */
export function demoSide(r: LoadResult): DemoSide {
  const fast = r.clients.filter((c) => c.mode === "fast");
  return {
    fastPerSec: r.throughput.fastPerClient.avg,
    expectedPerSec: r.throughput.expectedPerClient,
    fastP50: r.latency.fast.p50,
    fastP99: r.latency.fast.p99,
    fastMax: r.latency.fast.max,
    fastReceived: fast.reduce((a, c) => a + c.messages, 0) / Math.max(1, fast.length),
    published: r.publish.accepted,
    slowPerSec: r.throughput.slowPerClient.avg,
    slowP99: r.latency.slow.p99,
    slowGapped: r.slowClients.gapped,
    // A slow reader may not have reached the close frame yet; the server's count knows.
    slowCloses: Object.keys(r.slowClients.closes).length > 0
      ? r.slowClients.closes
      : r.server.disconnects ?? {},
    rssMaxBytes: r.server.rssMaxBytes,
    cpuAvgPercent: r.server.cpuAvgPercent,
  };
}

/** The comparison table: one row per figure, one column per mode. */
export function demoTable(naive: DemoSide, queue: DemoSide): string {
  const row = (label: string, f: (s: DemoSide) => string) => [label, f(naive), f(queue)];
  return textTable([
    ["", "naive (await each send)", "queue (Floodgate)"],
    row(
      "fast clients: msgs/s each",
      (s) => `${fmtNum(s.fastPerSec)} of ${fmtNum(s.expectedPerSec)}`,
    ),
    row(
      "fast clients: received by the end",
      (s) => `${fmtNum(s.fastReceived)} of ${fmtNum(s.published)}`,
    ),
    row("fast clients: p50 / p99 ms", (s) => `${fmtMs(s.fastP50)} / ${fmtMs(s.fastP99)}`),
    row("fast clients: max ms", (s) => fmtMs(s.fastMax)),
    row("slow client: msgs/s", (s) => fmtNum(s.slowPerSec)),
    row("slow client: p99 ms", (s) => fmtMs(s.slowP99)),
    row("slow client: told skipped", (s) => fmtNum(s.slowGapped)),
    row("slow client: closed", (s) => fmtCloses(s.slowCloses)),
    row("server: RSS max", (s) => fmtBytes(s.rssMaxBytes)),
    row("server: CPU avg", (s) => fmtPct(s.cpuAvgPercent)),
  ]);
}

function slowOutcome(s: DemoSide): string {
  const read = s.slowPerSec > 0
    ? `read what it could (${fmtNum(s.slowPerSec)} msgs/s)`
    : "read nothing";
  const told = s.slowGapped > 0
    ? `, was told of ${fmtNum(s.slowGapped)} messages it would not get`
    : "";
  const closed = s.slowCloses["4008"]
    ? " and was disconnected as a slow consumer (4008)"
    : s.slowCloses["4009"]
    ? " and was disconnected for its unanswered pings (4009)"
    : Object.keys(s.slowCloses).length > 0
    ? ` and was closed (${fmtCloses(s.slowCloses)})`
    : "";
  return `the slow client ${read}${told}${closed}`;
}

/** A duration in ms as "850 ms" or "5.23 s". */
function duration(ms: number): string {
  return ms < 1000 ? `${fmtMs(ms)} ms` : `${fmtMs(ms / 1000)} s`;
}

/** What the fast clients went through in naive mode. */
function naiveStory(s: DemoSide): string {
  const closed = Object.keys(s.slowCloses).join(", ");
  if (s.fastReceived < s.published) {
    return `The fast clients got ${fmtNum(s.fastPerSec)} of ${fmtNum(s.expectedPerSec)} msgs/s; ${
      fmtNum(s.published - s.fastReceived)
    } of the ${
      fmtNum(s.published)
    } published never reached them by the end, and of those that did, the slowest took ${
      duration(s.fastMax)
    } (p99 ${fmtMs(s.fastP99)} ms).`;
  }
  return `The fast clients' messages arrived up to ${duration(s.fastMax)} late (p50 ${
    fmtMs(s.fastP50)
  } ms, p99 ${fmtMs(s.fastP99)} ms)${
    closed ? `; they caught up only after the server closed the slow client (${closed})` : ""
  }.`;
}

/**
 * The verdict in plain words: did one slow client hold up the fast ones in
 * naive mode, and did the queues keep them apart?
 *
 * @example
 * ```ts ignore
 * console.log(demoVerdict(demoSide(naiveResult), demoSide(queueResult)));
 * ```
 */
export function demoVerdict(naive: DemoSide, queue: DemoSide): string {
  const kept = (s: DemoSide) => s.fastPerSec >= s.expectedPerSec * 0.95;
  const naiveHeld = !kept(naive) || naive.fastP99 > Math.max(1000, queue.fastP99 * 10);
  const queueHeld = !kept(queue) || queue.fastP99 > 1000;
  const lines: string[] = [];
  if (naiveHeld) {
    lines.push(
      `Naive mode: the one slow client held everyone up. ${naiveStory(naive)}`,
    );
  } else {
    lines.push(
      `Naive mode: the fast clients kept up this time (${fmtNum(naive.fastPerSec)} msgs/s, p99 ${
        fmtMs(naive.fastP99)
      } ms): the slow client's backlog had not yet filled the kernel's socket buffers (~4 MB). Run longer (--seconds) or with larger messages (--payload-bytes).`,
    );
  }
  if (queueHeld) {
    lines.push(
      `Queue mode: the fast clients were held up too (${fmtNum(queue.fastPerSec)} msgs/s, p99 ${
        fmtMs(queue.fastP99)
      } ms); the machine may be overloaded: look at the CPU figures.`,
    );
  } else {
    lines.push(
      `Queue mode: the fast clients got every message at full rate (${
        fmtNum(queue.fastPerSec)
      } msgs/s, p99 ${fmtMs(queue.fastP99)} ms) while ${slowOutcome(queue)}.`,
    );
  }
  if (naiveHeld && !queueHeld) {
    lines.push(
      "Same build, same load: per-client queues keep one slow reader from delaying everyone else.",
    );
  }
  return lines.join("\n");
}
