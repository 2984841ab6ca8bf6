/**
 * The browser routes: the dashboard page at `/`, the SDK at `/client.js` and
 * the page's script at `/dashboard.js`.
 *
 * @module
 */
import type { Hono } from "hono";
import type { WebAssets } from "../dashboard/assets.ts";

/** Adds `GET /`, `GET /client.js` and `GET /dashboard.js` to `app`. */
export function mountWebRoutes(app: Hono, assets: () => Promise<WebAssets>): void {
  const headers = (type: string) => ({ "content-type": type, "cache-control": "no-cache" });
  app.get(
    "/",
    async (c) => c.body((await assets()).indexHtml, 200, headers("text/html; charset=utf-8")),
  );
  app.get(
    "/client.js",
    async (c) => c.body((await assets()).clientJs, 200, headers("text/javascript; charset=utf-8")),
  );
  app.get(
    "/dashboard.js",
    async (c) =>
      c.body((await assets()).dashboardJs, 200, headers("text/javascript; charset=utf-8")),
  );
}
