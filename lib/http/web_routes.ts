/**
 * The browser routes: the dashboard page at `/`, the SDK at `/client.js` and
 * the page's script at `/dashboard.js`.
 *
 * @module
 */
import type { Hono } from "hono";
import type { WebAssets } from "../dashboard/assets.ts";

const HTML = "text/html; charset=utf-8";
const JS = "text/javascript; charset=utf-8";

/**
 * Adds `GET /`, `GET /client.js` and `GET /dashboard.js` to `app`. `/client.js`
 * may be imported by pages of any origin (`Access-Control-Allow-Origin: *`).
 */
export function mountWebRoutes(app: Hono, assets: () => Promise<WebAssets>): void {
  const noCache = { "cache-control": "no-cache" };
  app.get(
    "/",
    async (c) => c.body((await assets()).indexHtml, 200, { ...noCache, "content-type": HTML }),
  );
  app.get("/client.js", async (c) =>
    c.body((await assets()).clientJs, 200, {
      ...noCache,
      "content-type": JS,
      "access-control-allow-origin": "*",
    }));
  app.get(
    "/dashboard.js",
    async (c) => c.body((await assets()).dashboardJs, 200, { ...noCache, "content-type": JS }),
  );
}
