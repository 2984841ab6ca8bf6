/**
 * Who may publish and subscribe. With no `--publish-token`, `--jwt-secret` or
 * `--allowed-origins` everything is open (local development). Otherwise:
 *
 * - HTTP publishers send `Authorization: Bearer <token>`: the publish token
 *   (may publish anywhere) or a JWT whose `publish` claim allows the topics.
 * - WebSocket clients present a JWT (HS256) in `?token=` or as the subprotocol
 *   `floodgate.token.<jwt>`; its `subscribe` and `publish` claims list allowed
 *   topics (`name`, `prefix*`, `*`), `exp` its expiry, `sub` the identity.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import { CloseCode } from "../protocol/codes.ts";
import { PatternPermissions, type Permissions } from "./permissions.ts";
import { TopicPatterns } from "./topic_patterns.ts";

/** The subprotocol prefix that carries a token in `Sec-WebSocket-Protocol`. */
export const TOKEN_PROTOCOL_PREFIX = "floodgate.token.";

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
  /** Static token for HTTP publishers. @default {""} (none) */
  publishToken?: string;
  /** HS256 secret for JWTs. @default {""} (none) */
  jwtSecret?: string;
  /** Origins allowed to open WebSockets. @default {[]} (any) */
  allowedOrigins?: readonly string[];
}

/** Checks credentials; one instance per server. */
export class Authenticator {
  readonly #publishToken: Uint8Array | undefined;
  readonly #secret: Uint8Array | undefined;
  readonly #origins: ReadonlySet<string>;

  constructor(options: AuthOptions = {}) {
    const enc = new TextEncoder();
    this.#publishToken = options.publishToken ? enc.encode(options.publishToken) : undefined;
    this.#secret = options.jwtSecret ? enc.encode(options.jwtSecret) : undefined;
    this.#origins = new Set((options.allowedOrigins ?? []).map((o) => o.replace(/\/$/, "")));
  }

  /** True when nothing is configured: everyone may do everything. */
  get open(): boolean {
    return !this.#publishToken && !this.#secret && this.#origins.size === 0;
  }

  /** True when WebSocket clients must present a JWT. */
  get socketsNeedToken(): boolean {
    return this.#secret !== undefined;
  }

  /**
   * Checks an HTTP publisher. `remote` names anonymous publishers (for rate limits).
   *
   * @throws {AuthError} 401 without valid credentials.
   */
  async publisher(authorization: string | undefined, remote: string): Promise<Permissions> {
    if (!this.#publishToken && !this.#secret) return PatternPermissions.open(`addr:${remote}`);
    const bearer = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1];
    if (!bearer) {
      throw new AuthError('Publishing needs "Authorization: Bearer <token>"');
    }
    if (this.#publishToken && sameBytes(new TextEncoder().encode(bearer), this.#publishToken)) {
      return new PatternPermissions("publish-token", TopicPatterns.all(), TopicPatterns.all());
    }
    if (this.#secret) return await this.#verify(bearer);
    throw new AuthError("The bearer token is not the publish token; check --publish-token");
  }

  /** Origins allowed to call the API from a browser; empty means any. */
  get allowedOrigins(): string[] {
    return [...this.#origins];
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
    const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? "")?.[1] ?? queryToken;
    if (!token) {
      throw new AuthError('Reading state needs "Authorization: Bearer <jwt>" or ?token=<jwt>');
    }
    if (this.#publishToken && sameBytes(new TextEncoder().encode(token), this.#publishToken)) {
      return PatternPermissions.open("publish-token");
    }
    return await this.#verify(token);
  }

  /**
   * Checks a WebSocket upgrade: the Origin, then the JWT from `?token=` or the
   * `floodgate.token.<jwt>` subprotocol.
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
    if (!this.#secret) return PatternPermissions.open(`addr:${remote}`);
    const token = new URL(request.url).searchParams.get("token") ?? tokenFromProtocols(request);
    if (!token) {
      throw new AuthError(
        `A token is required: add ?token=<jwt> or the subprotocol ${TOKEN_PROTOCOL_PREFIX}<jwt>`,
      );
    }
    return await this.#verify(token);
  }

  async #verify(token: string): Promise<Permissions> {
    try {
      // Loaded on the first token: servers without --jwt-secret never pay for jose.
      const { jwtVerify } = await import("jose");
      const { payload } = await jwtVerify(token, this.#secret as Uint8Array, {
        algorithms: ["HS256"],
      });
      return new PatternPermissions(
        `sub:${payload.sub ?? "anonymous"}`,
        new TopicPatterns(payload.subscribe),
        new TopicPatterns(payload.publish),
        payload.exp === undefined ? undefined : payload.exp * 1000,
      );
    } catch (err) {
      const { errors } = await import("jose");
      if (err instanceof errors.JWTExpired) {
        throw new AuthError("The token expired; get a new one", { expired: true });
      }
      if (err instanceof TypeError) {
        throw new AuthError(`The token's claims are malformed: ${err.message}`);
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

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
