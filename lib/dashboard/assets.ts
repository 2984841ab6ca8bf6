/**
 * The browser files the server serves: the dashboard page and the bundled
 * SDK and dashboard scripts (built by `deno task build:web`, committed under
 * `lib/dashboard/static/`). Read with `fetch` relative to this module, so they
 * load from a local checkout or a remote one alike.
 *
 * @module
 */

/** The dashboard page and scripts, as text. */
export interface WebAssets {
  /** `GET /`. */
  indexHtml: string;
  /** `GET /client.js`: the SDK as one ES module. */
  clientJs: string;
  /** `GET /dashboard.js`: the dashboard page's script. */
  dashboardJs: string;
}

async function read(path: string): Promise<string> {
  const url = new URL(path, import.meta.url);
  const res = await fetch(url);
  if (!res.ok) {
    await res.body?.cancel();
    throw new Error(`Cannot read ${url.href} (${res.status}); run "deno task build:web"`);
  }
  return await res.text();
}

/** Reads the three files. */
export async function loadWebAssets(): Promise<WebAssets> {
  const [indexHtml, clientJs, dashboardJs] = await Promise.all([
    read("./index.html"),
    read("./static/client.js"),
    read("./static/dashboard.js"),
  ]);
  return { indexHtml, clientJs, dashboardJs };
}

/** A loader that reads the files on first use and keeps them. */
export function webAssetsLoader(): () => Promise<WebAssets> {
  let loading: Promise<WebAssets> | undefined;
  return () => {
    loading ??= loadWebAssets().catch((err) => {
      loading = undefined; // try again on the next request
      throw err;
    });
    return loading;
  };
}
