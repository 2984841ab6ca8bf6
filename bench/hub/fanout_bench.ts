/**
 * The fan-out path in memory: publish → encode once → 1000 client queues →
 * drain into in-memory sockets. Measures the JavaScript cost per delivery,
 * without the engine's socket writes.
 */
import { MemoryBus } from "../../lib/bus/bus_memory.ts";
import type { ClientSession } from "../../lib/hub/client_session.ts";
import { Hub } from "../../lib/hub/hub.ts";
import { Logger } from "../../lib/log/logger.ts";
import type { ServerSocket } from "../../lib/transport/socket.ts";

/** A client that reads everything at once: it answers each `ping` (after the bench's turn). */
class MemorySocket implements ServerSocket {
  bytes = 0;
  frames = 0;
  bufferedAmount = 0;
  /** Pings to answer. */
  pings: number[] = [];
  send(frame: string | Uint8Array): void {
    this.frames++;
    this.bytes += frame.length;
    if (typeof frame === "string" && frame.startsWith('{"type":"ping"')) {
      this.pings.push(JSON.parse(frame).id);
    }
  }
  close(): void {}
}

async function setup(subscribers: number) {
  const hub = new Hub({
    bus: new MemoryBus(),
    logger: new Logger({ level: "silent" }),
    heartbeatMs: 3_600_000,
  });
  const clients: { socket: MemorySocket; session: ClientSession }[] = [];
  for (let i = 0; i < subscribers; i++) {
    const socket = new MemorySocket();
    clients.push({ socket, session: hub.connect(socket, { remote: "bench", topics: ["feed"] }) });
  }
  await new Promise((r) => setTimeout(r, 10)); // welcome, subscribed
  /** Every client answers the pings it got, as one that keeps up would. */
  const pong = () => {
    for (const { socket, session } of clients) {
      for (const id of socket.pings) hub.receive(session, `{"type":"pong","id":${id}}`);
      socket.pings.length = 0;
    }
  };
  return { hub, pong };
}

const data = { status: "running", cpu: 0.42, tool: "Edit", pad: "x".repeat(80) };

for (const subscribers of [100, 1000]) {
  for (const perTurn of [1, 8]) {
    const ready = setup(subscribers);
    Deno.bench(
      `fan-out to ${subscribers} queues, ${perTurn} publish(es) per turn (${
        subscribers * perTurn
      } deliveries)`,
      { group: `fanout-${subscribers}`, baseline: perTurn === 1 },
      async (b) => {
        const { hub, pong } = await ready;
        b.start();
        for (let i = 0; i < perTurn; i++) await hub.publish([{ topic: "feed", data }]);
        hub.flush(); // what the end of the event-loop turn does
        b.end();
        pong();
      },
    );
  }
}
