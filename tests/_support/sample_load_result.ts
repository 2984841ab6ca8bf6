/**
 * A real (short) load run against the fake server, for the report tests: 2
 * topics, 2 fast clients and 1 stalled one, seq 4 of each topic dropped, the
 * stalled client closed with 4008.
 */
import { defaultConfig } from "../../lib/load/load_config.ts";
import type { LoadResult } from "../../lib/load/load_result.ts";
import { runLoad } from "../../lib/load/load_run.ts";
import { withFakeServer } from "./fake_floodgate.ts";

export async function sampleLoadResult(): Promise<LoadResult> {
  let result: LoadResult | undefined;
  await withFakeServer({ drop: [4], pingMs: 200 }, async (server) => {
    result = await runLoad({
      ...defaultConfig(),
      url: server.url,
      publishers: 2,
      rate: 10,
      topics: 2,
      subscribers: 3,
      slow: 1,
      stall: true,
      durationSeconds: 1,
      warmupSeconds: 0.1,
      sampleMs: 250,
      settleMs: 500,
    }, { scenario: "test-run" });
  });
  return result!;
}
