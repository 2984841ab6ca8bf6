/** Starting and stopping a real server on a free port, for integration tests. */
import { defaultSettings, type Settings } from "../../lib/config/settings.ts";
import { type FloodgateServer, type ServerParts, startServer } from "../../lib/server.ts";

/** Settings for tests: loopback, a free port, no logs, no summary line, no `$metrics`. */
export function testSettings(overrides: Partial<Settings> = {}): Settings {
  return {
    ...defaultSettings(),
    port: 0,
    hostname: "127.0.0.1",
    logLevel: "silent",
    statsIntervalMs: 0,
    metricsIntervalMs: 0,
    shutdownTimeoutMs: 500,
    ...overrides,
  };
}

/** Runs `fn` against a fresh server and always shuts it down. */
export async function withServer(
  overrides: Partial<Settings>,
  fn: (server: FloodgateServer) => Promise<void>,
  parts: ServerParts = {},
): Promise<void> {
  const server = await startServer(testSettings(overrides), parts);
  try {
    await fn(server);
  } finally {
    await server.shutdown();
  }
}

/** The WebSocket URL of a server, with optional query. */
export function wsUrl(server: FloodgateServer, query = ""): string {
  return `${server.url.replace("http", "ws")}/ws${query}`;
}

/** POSTs to /publish and returns status and JSON body. */
export async function publish(
  server: FloodgateServer,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}/publish`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** The value of an unlabelled metric in `/metrics`, or NaN when it is absent. */
export async function metricValue(server: FloodgateServer, name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, "m").exec(text);
  return m ? Number(m[1]) : NaN;
}
