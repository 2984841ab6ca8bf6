/**
 * `deno task load`: the load tester's entry point. Parses the flags, starts a
 * server if asked, runs the load, prints the table (or JSON), writes the HTML
 * report and checks the assertions.
 *
 * ```sh
 * deno task load --scenario sessions-20x5x5 --duration 30 --spawn
 * deno task load --url https://push.example.com --subscribers 50 --rate 20 --assert 'p99<50ms'
 * ```
 *
 * @module
 */
import { checkAssertions } from "./assertions.ts";
import { fmtNum } from "./format.ts";
import { loadHelp, parseLoadArgs } from "./load_args.ts";
import { assertionValues, type LoadResult } from "./load_result.ts";
import { runLoad } from "./load_run.ts";
import { ProgressWriter } from "./progress_line.ts";
import { renderHtmlReport } from "./report_html.ts";
import { formatReport } from "./report_text.ts";
import { SCENARIOS } from "./scenarios.ts";
import { type ServerProcess, spawnServer } from "./server_process.ts";

/** Runs the CLI with `args`; resolves with the exit status. */
export async function main(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseLoadArgs(args);
  } catch (err) {
    console.error(`load: ${(err as Error).message}`);
    return 2;
  }
  if (parsed.help) {
    console.log(loadHelp());
    return 0;
  }
  if (parsed.list) {
    for (const [name, s] of Object.entries(SCENARIOS)) {
      console.log(`${name.padEnd(17)}${s.description}`);
    }
    return 0;
  }

  const servers: ServerProcess[] = [];
  const abort = new AbortController();
  const onSignal = () => {
    if (abort.signal.aborted) Deno.exit(130);
    console.error("\nStopping early (Ctrl-C again to quit at once)…");
    abort.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  const progress = parsed.quiet ? undefined : new ProgressWriter();
  let result: LoadResult;
  try {
    if (parsed.spawn) {
      for (let i = 0; i < parsed.instances; i++) {
        servers.push(await spawnServer(["--log-level", "warn", ...parsed.serverFlags]));
      }
      [parsed.config.url, ...parsed.config.alsoUrls] = servers.map((s) => s.url);
    }
    result = await runLoad(parsed.config, {
      scenario: parsed.scenario,
      spawned: parsed.spawn ? { flags: parsed.serverFlags } : undefined,
      onProgress: progress ? (p) => progress.update(p) : undefined,
      signal: abort.signal,
    });
  } catch (err) {
    progress?.done();
    console.error(`load: ${(err as Error).message}`);
    return 2;
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    await Promise.all(servers.map((s) => s.stop()));
  }
  progress?.done();

  if (parsed.json) console.log(JSON.stringify(result, null, 2));
  else console.log(formatReport(result));
  if (parsed.report) {
    await Deno.writeTextFile(parsed.report, renderHtmlReport(result));
    console.error(`Report written to ${parsed.report}`);
  }
  if (parsed.assertions.length === 0) return 0;
  const outcomes = checkAssertions(parsed.assertions, assertionValues(result));
  for (const o of outcomes) {
    console.error(
      `${o.ok ? "PASS" : "FAIL"} ${o.assertion.text} (measured ${
        o.actual === undefined ? "nothing: not measured in this run" : fmtNum(o.actual)
      })`,
    );
  }
  return outcomes.every((o) => o.ok) ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
