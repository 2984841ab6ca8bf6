/**
 * `GET` for the load tester's reads of a server (`/healthz`, `/metrics`,
 * `/stats`), with errors that name the URL and the network's reason.
 *
 * @module
 */

/**
 * Fetches `url` and returns its status and body.
 *
 * @throws {Error} `GET <url> failed: <reason>` when no answer came (e.g. connection refused).
 *
 * @example
 * ```ts ignore
 * const { status, text } = await httpGet("http://127.0.0.1:8080/metrics");
 * ```
 */
export async function httpGet(url: string): Promise<{ status: number; text: string }> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (err) {
    const cause = (err as Error).cause as Error | undefined;
    throw new Error(`GET ${url} failed: ${cause?.message ?? (err as Error).message}`);
  }
  return { status: res.status, text: await res.text() };
}
