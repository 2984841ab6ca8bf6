/**
 * Scenario presets, runnable by name: `deno task load --scenario sessions-20x5x5`.
 * Flags given with the preset override its values. Presets publish to a fresh
 * topic (`load-<random>`) unless `--topic` is given, so running one against a
 * live deployment does not reach its real subscribers.
 *
 * @module
 */
import type { LoadConfig } from "./load_config.ts";

/** One preset. */
export interface Scenario {
  /** One line for `--help` and reports. */
  description: string;
  /** What it sets; everything else keeps its default or flag. */
  config: Partial<LoadConfig>;
}

/**
 * The dashboard scenarios: `sessions` coding-agent sessions each sending
 * `events` hook events per second as session updates (keyed by session), to
 * `clients` dashboard clients on one topic.
 */
function sessions(sessions: number, events: number, clients: number): Scenario {
  return {
    description: `${sessions} sessions × ${events} events/s → ${clients} dashboard client${
      clients > 1 ? "s" : ""
    }, ${sessions * events} msgs/s per client (session updates, ~2 KB)`,
    config: {
      publishers: sessions,
      rate: events,
      subscribers: clients,
      payload: "session",
    },
  };
}

/**
 * The chat-style presets of the usual WebSocket load-test guide: its client
 * counts, and one room whose messages reach every client at the guide's rate
 * (one message every 100, 50, 20, 10 ms), from 5 publishers.
 */
function room(clients: number, perClient: number): Scenario {
  return {
    description: `${clients} clients in one room, ${perClient} msgs/s each (5 publishers, 200 B), ${
      clients * perClient
    } deliveries/s`,
    config: { publishers: 5, rate: perClient / 5, subscribers: clients, payload: "pad" },
  };
}

/** Every preset by name. */
export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  "sessions-5x2x1": sessions(5, 2, 1),
  "sessions-10x3x1": sessions(10, 3, 1),
  "sessions-15x5x1": sessions(15, 5, 1),
  "sessions-10x3x3": sessions(10, 3, 3),
  "sessions-20x5x5": sessions(20, 5, 5),
  light: room(10, 10),
  medium: room(50, 20),
  heavy: room(100, 50),
  stress: room(200, 100),
  capacity: {
    description:
      "adds 250 subscribers every 3 s (50 msgs/s each) until p99 > 100 ms, < 90 % of messages arrive or > 1 % of connections fail; reports the knee",
    config: {
      publishers: 5,
      rate: 10,
      payload: "pad",
      durationSeconds: 30,
      warmupSeconds: 1,
      ramp: {
        step: 250,
        stageSeconds: 3,
        maxClients: 5000,
        p99LimitMs: 100,
        minDeliveryRatio: 0.9,
        maxConnectFailureRate: 0.01,
      },
    },
  },
  "slow-client": {
    description:
      "3 fast clients + 1 slow one (200 ms per message), 50 msgs/s of 1 KB; add --stall to stop it reading",
    config: {
      publishers: 1,
      rate: 50,
      payload: "pad",
      payloadBytes: 1000,
      subscribers: 4,
      slow: 1,
      slowMs: 200,
    },
  },
  "large-payload": {
    description:
      "424 KB tab-tree states (2/s, topic <topic>.tabs) beside session updates (5 sessions × 5/s) to 20 clients",
    config: {
      publishers: 5,
      rate: 5,
      payload: "session",
      subscribers: 20,
      largeBytes: 424_000,
      largeRate: 2,
    },
  },
};

/**
 * The preset called `name`.
 *
 * @throws {RangeError} listing the known names.
 */
export function scenario(name: string): Scenario {
  const found = SCENARIOS[name];
  if (!found) {
    throw new RangeError(
      `Unknown scenario "${name}"; known: ${Object.keys(SCENARIOS).join(", ")}`,
    );
  }
  return found;
}
