/**
 * Who may publish, subscribe and read the admin endpoints. With no
 * `--publish-token`, `--jwt-secret` or `--allowed-origins` everything is open
 * (local development). Otherwise every way in follows one rule:
 *
 * - **Credentials** come as `Authorization: Bearer <token>` (HTTP), or as
 *   `?token=<token>` or the subprotocol `floodgate.token.<token>` (WebSocket,
 *   state reads, admin). A token is the publish token, the admin token, or a
 *   JWT (HS256, with `--jwt-secret`) whose `subscribe` and `publish` claims
 *   list allowed topics (`name`, `prefix*`, `*`), `exp` its expiry, `sub` the
 *   identity and `admin: true` access to the admin endpoints.
 * - **Publishing** (`POST /publish` and WebSocket `publish` frames alike):
 *   open when neither `--publish-token` nor `--jwt-secret` is set; otherwise
 *   only with the publish token (every topic) or a JWT whose `publish` claim
 *   allows the topic.
 * - **Subscribing** (and `GET /topics/:topic/state`): open without
 *   `--jwt-secret`; with it, only with a JWT whose `subscribe` claim allows
 *   the topic, or the publish token (every topic).
 * - **Admin** (`/stats`, `/metrics`): see {@linkcode Authenticator.admin}.
 *
 * Tokens are compared by their SHA-256 digests in constant time, so the time
 * taken does not depend on their length or content.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { JWTPayload } from "jose";
import { CloseCode } from "../protocol/codes.ts";
import { PatternPermissions, type Permissions } from "./permissions.ts";
import { TopicPatterns } from "./topic_patterns.ts";

/** The subprotocol prefix that carries a token in `Sec-WebSocket-Protocol`. */
export const TOKEN_PROTOCOL_PREFIX = "floodgate.token.";

/** The identity of whoever presents the publish token (one rate-limit bucket, HTTP and WebSocket). */
const PUBLISH_TOKEN_IDENTITY = "publish-token";

/** A refused credential, with the HTTP status and WebSocket close code to answer it. */
export class AuthError extends Error {
  readonly code: "unauthorized" | "forbidden";
  readonly status: 401 | 403;
  readonly closeCode: number;

  constructor(message: string, options: { expired?: boolean; forbidden?: boolean } = {}) {
    super(message);
    this.name = "AuthError";
    this.code = options.forbidden ? "forbidden" : "unauthorized";
    this.status = options.forbidden ? 403 : 401;
    this.closeCode = options.forbidden
      ? CloseCode.Forbidden
      : options.expired
      ? CloseCode.TokenExpired
      : CloseCode.Unauthorized;
  }
}

/** Options of {@linkcode Authenticator}. */
export interface AuthOptions {
  /** Static token for publishers, HTTP and WebSocket. @default {""} (none) */
  publishToken?: string;
  /** HS256 secret for JWTs. @default {""} (none) */
  jwtSecret?: string;
  /** Origins allowed to open WebSockets. @default {[]} (any) */
  allowedOrigins?: readonly string[];
  /** Static token for the admin endpoints `/stats` and `/metrics`. @default {""} (none) */
  adminToken?: string;
}

/**
 * How the admin endpoints are guarded: `open` (nothing configured), `token`
 * (the admin token), `jwt` (a JWT with `admin: true`), `token-or-jwt`, or
 * `closed` (`--publish-token` without `--admin-token` or `--jwt-secret`:
 * every request refused until `--admin-token` is set).
 */
export type AdminAccess = "open" | "token" | "jwt" | "token-or-jwt" | "closed";

/**
 * Checks credentials; one instance per server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Authenticator, AuthError } from "./authenticator.ts";
 *
 * const auth = new Authenticator({ publishToken: "pub", adminToken: "adm" });
 * const anonymous = await auth.socket(new Request("http://x/ws"), "192.0.2.1");
 * assert.equal(anonymous.canSubscribe("chat"), true);
 * assert.equal(anonymous.canPublish("chat"), false);
 * const publisher = await auth.socket(new Request("http://x/ws?token=pub"), "192.0.2.1");
 * assert.equal(publisher.canPublish("chat"), true);
 * await auth.admin("Bearer adm", undefined);
 * await assert.rejects(auth.admin(undefined, "pub"), AuthError);
 * ```
 */
export class Authenticator {
  readonly #publishToken: Uint8Array | undefined;
  readonly #adminToken: Uint8Array | undefined;
  readonly #secret: Uint8Array | undefined;
  readonly #origins: ReadonlySet<string>;

  constructor(options: AuthOptions = {}) {
    this.#publishToken = options.publishToken ? digest(options.publishToken) : undefined;
    this.#adminToken = options.adminToken ? digest(options.adminToken) : undefined;
    this.#secret = options.jwtSecret ? new TextEncoder().encode(options.jwtSecret) : undefined;
    this.#origins = new Set((options.allowedOrigins ?? []).map((o) => o.replace(/\/$/, "")));
  }

  /** True when nothing is configured: everyone may publish and subscribe. */
  get open(): boolean {
    return !this.#publishToken && !this.#secret && this.#origins.size === 0;
  }

  /** True when WebSocket clients must present a JWT (or the publish token). */
  get socketsNeedToken(): boolean {
    return this.#secret !== undefined;
  }

  /** Origins allowed to call the API from a browser; empty means any. */
  get allowedOrigins(): string[] {
    return [...this.#origins];
  }

  /** How `/stats` and `/metrics` are guarded; see {@linkcode AdminAccess}. */
  get adminAccess(): AdminAccess {
    if (this.#adminToken && this.#secret) return "token-or-jwt";
    if (this.#adminToken) return "token";
    if (this.#secret) return "jwt";
    return this.#publishToken ? "closed" : "open";
  }

  /**
   * True when anyone may read `/stats` (every client's address and topics)
   * and `/metrics`: no `--admin-token`, `--jwt-secret` or `--publish-token`.
   * Worth a warning at startup.
   */
  get adminOpen(): boolean {
    return this.adminAccess === "open";
  }

  /**
   * Checks an HTTP publisher. `remote` names anonymous publishers (for rate limits).
   *
   * @throws {AuthError} 401 without valid credentials.
   */
  async publisher(authorization: string | undefined, remote: string): Promise<Permissions> {
    if (!this.#publishToken && !this.#secret) return PatternPermissions.open(`addr:${remote}`);
    const bearer = bearerOf(authorization);
    if (!bearer) {
      throw new AuthError('Publishing needs "Authorization: Bearer <token>"');
    }
    return await this.#credential(bearer);
  }

  /**
   * Checks a reader of `GET /topics/:topic/state`: with `--jwt-secret` set it
   * needs what a subscriber needs (a JWT as `Authorization: Bearer` or
   * `?token=`), or the publish token; otherwise it is open.
   *
   * @throws {AuthError} 401 without valid credentials.
   */
  async reader(
    authorization: string | undefined,
    queryToken: string | undefined,
    remote: string,
  ): Promise<Permissions> {
    if (!this.#secret) return PatternPermissions.open(`addr:${remote}`);
    const token = bearerOf(authorization) ?? queryToken;
    if (!token) {
      throw new AuthError('Reading state needs "Authorization: Bearer <jwt>" or ?token=<jwt>');
    }
    return await this.#credential(token);
  }

  /**
   * Checks a WebSocket upgrade: the Origin, then the token from `?token=` or
   * the `floodgate.token.<token>` subprotocol. The publish token may publish
   * and subscribe everywhere; a JWT what its claims list. Without a token:
   * with `--jwt-secret` refused; with only `--publish-token` the connection
   * may subscribe but not publish; with neither, everything is open.
   *
   * @throws {AuthError} 403 for a disallowed Origin (answered before upgrading);
   * 401 (close 4001) or expired (close 4010) for the token.
   */
  async socket(request: Request, remote: string): Promise<Permissions> {
    const origin = request.headers.get("origin");
    if (this.#origins.size > 0 && origin !== null && !this.#origins.has(origin)) {
      throw new AuthError(`Origin ${origin} is not allowed; see --allowed-origins`, {
        forbidden: true,
      });
    }
    if (!this.#publishToken && !this.#secret) return PatternPermissions.open(`addr:${remote}`);
    const token = new URL(request.url).searchParams.get("token") ?? tokenFromProtocols(request);
    if (this.#secret) {
      if (!token) {
        throw new AuthError(
          `A token is required: add ?token=<jwt> or the subprotocol ${TOKEN_PROTOCOL_PREFIX}<jwt>`,
        );
      }
      return await this.#credential(token);
    }
    // --publish-token alone: subscribing stays open; publishing needs the token.
    if (token && this.#isPublishToken(token)) {
      return PatternPermissions.open(PUBLISH_TOKEN_IDENTITY);
    }
    return PatternPermissions.subscribeOnly(
      `addr:${remote}`,
      token
        ? "the token is not the publish token; check --publish-token"
        : `connect with ?token=<publish token> or the subprotocol ${TOKEN_PROTOCOL_PREFIX}<publish token>`,
    );
  }

  /**
   * Checks a reader of the admin endpoints (`/stats`, `/metrics`). The token
   * comes as `Authorization: Bearer <token>` or `?token=<token>` (which
   * access logs may record: prefer the header). Let through when:
   *
   * - nothing is configured (no `--admin-token`, `--jwt-secret` or
   *   `--publish-token`): open, as for local development;
   * - the token is the admin token;
   * - with `--jwt-secret`, the token is a JWT with the claim `admin: true`.
   *
   * The publish token never opens them. So with `--publish-token` or
   * `--jwt-secret` set and no `--admin-token`, only a JWT with `admin: true`
   * does; with `--publish-token` alone nothing does, and the refusal tells the
   * operator to set `--admin-token`.
   *
   * @throws {AuthError} 401 without valid credentials (expired: close code
   * 4010, status 401); 403 for a valid JWT without `admin: true`.
   */
  async admin(authorization: string | undefined, queryToken: string | undefined): Promise<void> {
    const access = this.adminAccess;
    if (access === "open") return;
    if (access === "closed") {
      throw new AuthError(
        "/stats and /metrics are closed: --publish-token is set without --admin-token; " +
          "set --admin-token (or --jwt-secret, with JWTs carrying admin: true)",
      );
    }
    const token = bearerOf(authorization) ?? queryToken;
    const wanted = access === "token"
      ? "the admin token"
      : access === "jwt"
      ? "a JWT with admin: true (or set --admin-token)"
      : "the admin token or a JWT with admin: true";
    if (!token) {
      throw new AuthError(
        `/stats and /metrics need "Authorization: Bearer <token>" or ?token=<token> with ${wanted}`,
      );
    }
    if (this.#adminToken && sameToken(token, this.#adminToken)) return;
    const secret = this.#secret;
    if (!secret) {
      throw new AuthError("The token is not the admin token; check --admin-token");
    }
    const payload = await this.#payload(token, secret);
    if (payload.admin !== true) {
      throw new AuthError(`The token may not read /stats or /metrics: it needs ${wanted}`, {
        forbidden: true,
      });
    }
  }

  /** The permissions of a presented token: the publish token, else a JWT. */
  async #credential(token: string): Promise<Permissions> {
    if (this.#isPublishToken(token)) return PatternPermissions.open(PUBLISH_TOKEN_IDENTITY);
    const secret = this.#secret;
    if (!secret) {
      throw new AuthError("The bearer token is not the publish token; check --publish-token");
    }
    const payload = await this.#payload(token, secret);
    try {
      return new PatternPermissions(
        `sub:${payload.sub ?? "anonymous"}`,
        new TopicPatterns(payload.subscribe),
        new TopicPatterns(payload.publish),
        { expiresAt: payload.exp === undefined ? undefined : payload.exp * 1000 },
      );
    } catch (err) {
      if (err instanceof TypeError) {
        throw new AuthError(`The token's claims are malformed: ${err.message}`);
      }
      throw err;
    }
  }

  #isPublishToken(token: string): boolean {
    return this.#publishToken !== undefined && sameToken(token, this.#publishToken);
  }

  /** The claims of a JWT signed with `secret`. */
  async #payload(token: string, secret: Uint8Array): Promise<JWTPayload> {
    // Loaded on the first token: servers without --jwt-secret never pay for jose.
    const { jwtVerify, errors } = await import("jose");
    try {
      const { payload } = await jwtVerify(token, secret, { algorithms: ["HS256"] });
      return payload;
    } catch (err) {
      if (err instanceof errors.JWTExpired) {
        throw new AuthError("The token expired; get a new one", { expired: true });
      }
      throw new AuthError("The token is not valid (bad signature, algorithm or format)");
    }
  }
}

/** The token carried in `Sec-WebSocket-Protocol`, if any. */
export function tokenFromProtocols(request: Request): string | undefined {
  const offered = request.headers.get("sec-websocket-protocol")?.split(",").map((p) => p.trim()) ??
    [];
  return offered.find((p) => p.startsWith(TOKEN_PROTOCOL_PREFIX))?.slice(
    TOKEN_PROTOCOL_PREFIX.length,
  );
}

function bearerOf(authorization: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
}

function digest(token: string): Uint8Array {
  return createHash("sha256").update(token, "utf8").digest();
}

/**
 * Compares digests, both 32 bytes: the time depends on neither the presented
 * token's length nor where it differs from the expected one.
 */
function sameToken(presented: string, expectedDigest: Uint8Array): boolean {
  return timingSafeEqual(digest(presented), expectedDigest);
}
