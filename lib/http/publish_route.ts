/**
 * `POST /publish`: one message or an array of them, checked whole (auth,
 * body size, JSON, every item, the rate) before any is published.
 *
 * @module
 */
import type { Context, Hono } from "hono";
import type { Hub } from "../hub/hub.ts";
import type { Authenticator } from "../auth/authenticator.ts";
import { AuthError } from "../auth/authenticator.ts";
import type { Permissions } from "../auth/permissions.ts";
import { publishRefusal } from "../auth/publish_check.ts";
import type { KeyedRateLimiter } from "../limits/keyed_rate_limiter.ts";
import { parsePublishInput, type PublishInput } from "../protocol/parse.ts";
import { ProtocolError } from "../protocol/protocol_error.ts";
import { readBodyText } from "./read_body.ts";
import { errorResponse, type Remote, STATUS_OF } from "./responses.ts";

/** What the publish route needs. */
export interface PublishRouteOptions {
  hub: Hub;
  authenticator: Authenticator;
  publishLimiter: KeyedRateLimiter;
  /** Largest body in bytes. */
  maxBodyBytes: number;
  /** Most items in one array. */
  maxBatchItems: number;
  /** Answers a refused credential. */
  refuse(c: Context, err: AuthError): Response;
  /** Who sent the request. */
  remote(c: Context): Remote;
}

/** Mounts `POST /publish` on `app`. */
export function mountPublishRoute(app: Hono, options: PublishRouteOptions): void {
  const { hub, authenticator, publishLimiter, maxBodyBytes, maxBatchItems } = options;
  app.post("/publish", async (c) => {
    let permissions: Permissions;
    try {
      permissions = await authenticator.publisher(
        c.req.header("authorization"),
        options.remote(c).host,
      );
    } catch (err) {
      if (err instanceof AuthError) return options.refuse(c, err);
      throw err;
    }
    const text = await readBodyText(c.req.raw, maxBodyBytes, c.env);
    if (text === undefined) {
      return errorResponse(
        c,
        413,
        "too_large",
        `Body exceeds ${maxBodyBytes} bytes (--max-body-bytes); split it into several publishes`,
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return errorResponse(
        c,
        400,
        "bad_json",
        'Body is not valid JSON; send {"topic": "...", "data": ...} or an array of those',
      );
    }
    const items = Array.isArray(body) ? body : [body];
    if (items.length === 0) {
      return errorResponse(c, 400, "invalid_frame", "Empty array: nothing to publish");
    }
    if (items.length > maxBatchItems) {
      return errorResponse(
        c,
        413,
        "too_large",
        `${items.length} items in one publish; the limit is ${maxBatchItems}`,
      );
    }
    if (items.length > publishLimiter.burst) {
      // It could never fit: a 429 would have the client retry forever.
      return errorResponse(
        c,
        413,
        "too_large",
        `${items.length} items in one publish exceed the burst of ${publishLimiter.burst} ` +
          `that --publish-rate allows; split the batch`,
      );
    }
    let inputs: PublishInput[];
    try {
      inputs = items.map((item, i) => {
        try {
          const input = parsePublishInput(item);
          const refusal = publishRefusal(permissions, input.topic);
          if (refusal) throw refusal;
          return input;
        } catch (err) {
          if (err instanceof ProtocolError && Array.isArray(body)) {
            throw new ProtocolError(err.code, `Item ${i}: ${err.message}`);
          }
          throw err;
        }
      });
    } catch (err) {
      if (err instanceof ProtocolError) {
        if (err.code === "forbidden") hub.counters.reject("forbidden");
        return errorResponse(c, STATUS_OF[err.code] ?? 400, err.code, err.message);
      }
      throw err;
    }
    const waitMs = publishLimiter.take(permissions.identity, inputs.length);
    if (waitMs > 0) {
      hub.counters.reject("rate_limited");
      c.header("Retry-After", String(Math.ceil(waitMs / 1000)));
      return errorResponse(
        c,
        429,
        "rate_limited",
        `Publish rate limit reached for ${permissions.identity} (--publish-rate); retry in ${waitMs} ms`,
      );
    }
    let envelopes;
    try {
      envelopes = await hub.publish(inputs);
    } catch (err) {
      if (err instanceof ProtocolError) {
        hub.counters.reject(err.code);
        if (err.code === "overloaded" || err.code === "unavailable") c.header("Retry-After", "1");
        return errorResponse(c, STATUS_OF[err.code] ?? 400, err.code, err.message);
      }
      throw err;
    }
    return c.json({ accepted: envelopes.length, seq: envelopes[envelopes.length - 1].seq }, 202);
  });
}
