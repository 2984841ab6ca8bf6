/**
 * Reads samples out of a Prometheus text exposition (what `GET /metrics`
 * returns): enough for the load tester to follow a server's counters, CPU and
 * memory. Histograms and exemplars are read as plain samples.
 *
 * @module
 */
import { httpGet } from "./http_get.ts";

/**
 * The samples of an exposition, keyed by series as written: `name` or
 * `name{label="value",…}`.
 *
 * @example
 * ```ts
 * import { parsePrometheusText } from "./prometheus_text.ts";
 * const m = parsePrometheusText('# HELP x y\nx_total 3\nd{code="4008"} 1\n');
 * m.get("x_total"); // 3
 * m.get('d{code="4008"}'); // 1
 * ```
 */
export function parsePrometheusText(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    // `series value [timestamp]`; label values may contain spaces, so split after the `}`.
    const close = line.lastIndexOf("}");
    const rest = close >= 0 ? line.slice(close + 1).trim() : line.slice(line.indexOf(" ") + 1);
    const series = close >= 0 ? line.slice(0, close + 1) : line.slice(0, line.indexOf(" "));
    const value = Number(rest.split(" ")[0]);
    if (series !== "" && !Number.isNaN(value)) samples.set(series, value);
  }
  return samples;
}

/**
 * Fetches `url` (a server's `/metrics`) and parses it.
 *
 * @throws {Error} when the server cannot be reached or does not answer 200.
 */
export async function fetchMetrics(url: string): Promise<Map<string, number>> {
  const { status, text } = await httpGet(url);
  if (status !== 200) throw new Error(`GET ${url} answered ${status}`);
  return parsePrometheusText(text);
}
