/**
 * The fan-out path in memory: publish → encode once → 1000 client queues →
 * drain into in-memory sockets. Measures the JavaScript cost per delivery,
 * without the engine's socket writes.
 */
import { MemoryBus } from "../../lib/bus/bus_memory.ts";
import { Hub } from "../../lib/hub/hub.ts";
import { Logger } from "../../lib/log/logger.ts";
import type { ServerSocket } from "../../lib/transport/socket.ts";

class MemorySocket implements ServerSocket {
  bytes = 0;
  frames = 0;
  bufferedAmount = 0;
  send(frame: string | Uint8Array): void {
    this.frames++;
    this.bytes += frame.length;
  }
  close(): void {}
}

async function setup(subscribers: number) {
  const hub = new Hub({
    bus: new MemoryBus(),
    logger: new Logger({ level: "silent" }),
    heartbeatMs: 3_600_000,
  });
  const sockets: MemorySocket[] = [];
  for (let i = 0; i < subscribers; i++) {
    const socket = new MemorySocket();
    sockets.push(socket);
    hub.connect(socket, { remote: "bench", topics: ["feed"] });
  }
  await new Promise((r) => setTimeout(r, 10)); // welcome, subscribed
  return { hub, sockets };
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
        const { hub } = await ready;
        b.start();
        for (let i = 0; i < perTurn; i++) await hub.publish([{ topic: "feed", data }]);
        hub.flush(); // what the end of the event-loop turn does
        b.end();
      },
    );
  }
}
