import assert from "node:assert/strict";
import { SignJWT } from "jose";
import {
  Authenticator,
  AuthError,
  type AuthOptions,
  TOKEN_PROTOCOL_PREFIX,
  tokenFromProtocols,
} from "../../lib/auth/authenticator.ts";
import type { Permissions } from "../../lib/auth/permissions.ts";
import { publishRefusal } from "../../lib/auth/publish_check.ts";
import { CloseCode } from "../../lib/protocol/codes.ts";

const SECRET = "authenticator-test-secret-of-32-bytes!";
const PUB = "pub-token-7f3a";
const ADM = "adm-token-91c2";
const REMOTE = "192.0.2.1";

function jwt(claims: Record<string, unknown>, expiresInSec = 3600, secret = SECRET) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSec)
    .sign(new TextEncoder().encode(secret));
}

/** A WebSocket upgrade request carrying `token` in the query or as the subprotocol. */
function upgrade(token?: string, via: "query" | "protocol" = "query", origin?: string): Request {
  const headers = new Headers({ upgrade: "websocket" });
  if (origin) headers.set("origin", origin);
  if (token && via === "protocol") {
    headers.set("sec-websocket-protocol", `floodgate.v1.json, ${TOKEN_PROTOCOL_PREFIX}${token}`);
  }
  const query = token && via === "query" ? `?token=${encodeURIComponent(token)}` : "";
  return new Request(`http://floodgate.test/ws${query}`, { headers });
}

/** Asserts `promise` rejects with an AuthError of `status` whose message matches `message`. */
async function refused(promise: Promise<unknown>, status: 401 | 403, message?: RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof AuthError, String(err));
    assert.equal(err.status, status, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** Whether `permissions` may publish to `topic` under the shared rule. */
function mayPublish(permissions: Permissions, topic: string): boolean {
  return publishRefusal(permissions, topic) === undefined;
}

Deno.test("Authenticator with nothing configured opens publishing, subscribing and admin", async () => {
  const auth = new Authenticator();
  assert.equal(auth.open, true);
  assert.equal(auth.adminOpen, true);
  assert.equal(auth.adminAccess, "open");
  const http = await auth.publisher(undefined, REMOTE);
  const ws = await auth.socket(upgrade(), REMOTE);
  for (const p of [http, ws]) {
    assert.equal(p.identity, `addr:${REMOTE}`);
    assert.equal(mayPublish(p, "chat"), true);
    assert.equal(p.canSubscribe("chat"), true);
  }
  await auth.admin(undefined, undefined);
});

Deno.test("Authenticator.socket with only --publish-token lets anonymous clients subscribe but not publish", async () => {
  const auth = new Authenticator({ publishToken: PUB });
  assert.equal(auth.socketsNeedToken, false);
  const anonymous = await auth.socket(upgrade(), REMOTE);
  assert.equal(anonymous.identity, `addr:${REMOTE}`);
  assert.equal(anonymous.canSubscribe("chat"), true);
  assert.equal(anonymous.canPublish("chat"), false);
  const refusal = publishRefusal(anonymous, "chat", 7);
  assert.equal(refusal?.code, "forbidden");
  assert.equal(refusal?.id, 7);
  assert.match(refusal?.message ?? "", /may not publish to "chat".*\?token=<publish token>/);

  const wrong = await auth.socket(upgrade("not-it"), REMOTE);
  assert.equal(wrong.canSubscribe("chat"), true);
  assert.equal(wrong.canPublish("chat"), false);
  assert.match(publishRefusal(wrong, "chat")?.message ?? "", /not the publish token/);
});

Deno.test("Authenticator.socket with only --publish-token lets the publish token publish, by query or subprotocol", async () => {
  const auth = new Authenticator({ publishToken: PUB });
  for (const via of ["query", "protocol"] as const) {
    const p = await auth.socket(upgrade(PUB, via), REMOTE);
    assert.equal(p.identity, "publish-token", via);
    assert.equal(mayPublish(p, "chat"), true, via);
    assert.equal(p.canSubscribe("chat"), true, via);
    assert.equal(mayPublish(p, "$metrics"), false, `${via}: system topics stay the server's`);
  }
});

Deno.test("Authenticator.publisher with only --publish-token needs the bearer publish token", async () => {
  const auth = new Authenticator({ publishToken: PUB });
  await refused(auth.publisher(undefined, REMOTE), 401, /Authorization: Bearer/);
  await refused(auth.publisher("Bearer nope", REMOTE), 401, /not the publish token/);
  await refused(auth.publisher(`Basic ${PUB}`, REMOTE), 401);
  const p = await auth.publisher(`Bearer ${PUB}`, REMOTE);
  assert.equal(p.identity, "publish-token");
  assert.equal(mayPublish(p, "anything"), true);
});

Deno.test("Authenticator.publisher and socket give one credential the same publish answer", async () => {
  const chatBot = await jwt({ sub: "bot", publish: ["chat.*"] });
  const reader = await jwt({ sub: "r", subscribe: ["*"] });
  const configs: [string, AuthOptions][] = [
    ["publish token", { publishToken: PUB }],
    ["jwt secret", { jwtSecret: SECRET }],
    ["both", { publishToken: PUB, jwtSecret: SECRET }],
  ];
  const topics = ["chat.room1", "sessions", "$metrics"];
  for (const [name, options] of configs) {
    const auth = new Authenticator(options);
    for (const token of [undefined, "wrong", PUB, chatBot, reader]) {
      const http = await auth.publisher(token && `Bearer ${token}`, REMOTE).catch(() => undefined);
      const ws = await auth.socket(upgrade(token), REMOTE).catch(() => undefined);
      for (const topic of topics) {
        assert.equal(
          ws !== undefined && mayPublish(ws, topic),
          http !== undefined && mayPublish(http, topic),
          `${name}, token ${token?.slice(0, 12)}, topic ${topic}`,
        );
      }
    }
  }
});

Deno.test("Authenticator.socket with --jwt-secret refuses a missing, forged or expired token", async () => {
  const auth = new Authenticator({ jwtSecret: SECRET });
  assert.equal(auth.socketsNeedToken, true);
  await refused(auth.socket(upgrade(), REMOTE), 401, /token is required/);
  await refused(auth.socket(upgrade("not.a.jwt"), REMOTE), 401, /not valid/);
  const forged = await jwt({ subscribe: ["*"] }, 3600, "another-secret-of-at-least-32-bytes!");
  await refused(auth.socket(upgrade(forged), REMOTE), 401, /not valid/);
  const expired = auth.socket(upgrade(await jwt({ subscribe: ["*"] }, -60)), REMOTE);
  await assert.rejects(expired, (err: unknown) => {
    assert.ok(err instanceof AuthError);
    assert.equal(err.closeCode, CloseCode.TokenExpired);
    return true;
  });
  const malformed = await jwt({ subscribe: "chat" });
  await refused(auth.socket(upgrade(malformed), REMOTE), 401, /claims are malformed/);
});

Deno.test("Authenticator.socket with --jwt-secret grants what the JWT claims, from query or subprotocol", async () => {
  const auth = new Authenticator({ jwtSecret: SECRET });
  const token = await jwt({ sub: "ann", subscribe: ["tabs.*"], publish: ["chat"] });
  for (const via of ["query", "protocol"] as const) {
    const p = await auth.socket(upgrade(token, via), REMOTE);
    assert.equal(p.identity, "sub:ann");
    assert.equal(p.canSubscribe("tabs.1"), true);
    assert.equal(p.canSubscribe("chat"), false);
    assert.equal(mayPublish(p, "chat"), true);
    assert.equal(mayPublish(p, "tabs.1"), false);
    assert.ok(p.expiresAt !== undefined && p.expiresAt > Date.now());
  }
});

Deno.test("Authenticator.socket with --jwt-secret and --publish-token gives the publish token everything", async () => {
  const auth = new Authenticator({ publishToken: PUB, jwtSecret: SECRET });
  for (const via of ["query", "protocol"] as const) {
    const p = await auth.socket(upgrade(PUB, via), REMOTE);
    assert.equal(p.identity, "publish-token");
    assert.equal(p.canSubscribe("anything"), true);
    assert.equal(mayPublish(p, "anything"), true);
    assert.equal(p.expiresAt, undefined);
  }
  await refused(auth.socket(upgrade(), REMOTE), 401, /token is required/);
});

Deno.test("Authenticator.reader is open without --jwt-secret and takes a JWT or the publish token with it", async () => {
  assert.equal(
    (await new Authenticator({ publishToken: PUB }).reader(undefined, undefined, REMOTE))
      .canSubscribe("x"),
    true,
  );
  const auth = new Authenticator({ publishToken: PUB, jwtSecret: SECRET });
  await refused(auth.reader(undefined, undefined, REMOTE), 401, /Reading state needs/);
  assert.equal((await auth.reader(`Bearer ${PUB}`, undefined, REMOTE)).canSubscribe("x"), true);
  const token = await jwt({ subscribe: ["a"] });
  const viaQuery = await auth.reader(undefined, token, REMOTE);
  assert.equal(viaQuery.canSubscribe("a"), true);
  assert.equal(viaQuery.canSubscribe("b"), false);
});

Deno.test("Authenticator.socket refuses a disallowed Origin with 403 and allows listed or absent ones", async () => {
  const auth = new Authenticator({ allowedOrigins: ["https://app.example.com/"] });
  assert.equal(auth.open, false);
  assert.deepEqual(auth.allowedOrigins, ["https://app.example.com"]);
  await refused(auth.socket(upgrade(undefined, "query", "https://evil.example"), REMOTE), 403);
  const ok = await auth.socket(upgrade(undefined, "query", "https://app.example.com"), REMOTE);
  assert.equal(mayPublish(ok, "chat"), true);
  assert.equal(mayPublish(await auth.socket(upgrade(), REMOTE), "chat"), true);
});

Deno.test("Authenticator compares tokens exactly whatever their length or shared prefix", async () => {
  const auth = new Authenticator({ publishToken: PUB });
  const near = ["", PUB.slice(0, -1), `${PUB}x`, `x${PUB}`, PUB.toUpperCase(), PUB.repeat(40)];
  for (const token of near) {
    const p = await auth.socket(upgrade(token), REMOTE);
    assert.equal(p.canPublish("chat"), false, JSON.stringify(token));
  }
  const unicode = new Authenticator({ publishToken: "tök€n" });
  assert.equal((await unicode.socket(upgrade("tök€n"), REMOTE)).canPublish("chat"), true);
  assert.equal((await unicode.socket(upgrade("tok€n"), REMOTE)).canPublish("chat"), false);
});

Deno.test("Authenticator.adminAccess and adminOpen follow the configured credentials", () => {
  const cases: [AuthOptions, string, boolean][] = [
    [{}, "open", true],
    [{ allowedOrigins: ["https://a.example"] }, "open", true],
    [{ publishToken: PUB }, "closed", false],
    [{ jwtSecret: SECRET }, "jwt", false],
    [{ publishToken: PUB, jwtSecret: SECRET }, "jwt", false],
    [{ adminToken: ADM }, "token", false],
    [{ adminToken: ADM, publishToken: PUB }, "token", false],
    [{ adminToken: ADM, jwtSecret: SECRET }, "token-or-jwt", false],
  ];
  for (const [options, access, open] of cases) {
    const auth = new Authenticator(options);
    assert.equal(auth.adminAccess, access, JSON.stringify(options));
    assert.equal(auth.adminOpen, open, JSON.stringify(options));
  }
});

Deno.test("Authenticator.admin with --admin-token takes it as bearer or ?token= and nothing else", async () => {
  const auth = new Authenticator({ adminToken: ADM, publishToken: PUB });
  await auth.admin(`Bearer ${ADM}`, undefined);
  await auth.admin(undefined, ADM);
  await refused(
    auth.admin(undefined, undefined),
    401,
    /Authorization: Bearer <token>.*admin token/,
  );
  await refused(auth.admin(`Bearer ${PUB}`, undefined), 401, /not the admin token/);
  await refused(auth.admin(undefined, `${ADM}x`), 401, /not the admin token/);
  // The admin token is no publish token.
  await refused(auth.publisher(`Bearer ${ADM}`, REMOTE), 401);
  assert.equal((await auth.socket(upgrade(ADM), REMOTE)).canPublish("chat"), false);
});

Deno.test("Authenticator.admin with only --publish-token is closed and says to set --admin-token", async () => {
  const auth = new Authenticator({ publishToken: PUB });
  for (const [authorization, query] of [[undefined, undefined], [`Bearer ${PUB}`, undefined]]) {
    await refused(auth.admin(authorization, query), 401, /set --admin-token/);
  }
  await refused(auth.admin(undefined, PUB), 401, /set --admin-token/);
});

Deno.test("Authenticator.admin with --jwt-secret takes a JWT with admin: true, 403 without it", async () => {
  const auth = new Authenticator({ jwtSecret: SECRET, publishToken: PUB });
  await auth.admin(`Bearer ${await jwt({ sub: "ops", admin: true })}`, undefined);
  await auth.admin(undefined, await jwt({ admin: true }));
  await refused(auth.admin(undefined, undefined), 401, /JWT with admin: true.*--admin-token/);
  await refused(auth.admin(`Bearer ${await jwt({ subscribe: ["*"] })}`, undefined), 403);
  await refused(auth.admin(`Bearer ${await jwt({ admin: "true" })}`, undefined), 403);
  await refused(auth.admin(`Bearer ${PUB}`, undefined), 401, /not valid/);
  const forged = await jwt({ admin: true }, 3600, "another-secret-of-at-least-32-bytes!");
  await refused(auth.admin(undefined, forged), 401, /not valid/);
  await assert.rejects(auth.admin(undefined, await jwt({ admin: true }, -60)), (err: unknown) => {
    assert.ok(err instanceof AuthError);
    assert.equal(err.status, 401);
    assert.equal(err.closeCode, CloseCode.TokenExpired);
    return true;
  });
});

Deno.test("Authenticator.admin with --admin-token and --jwt-secret takes either", async () => {
  const auth = new Authenticator({ jwtSecret: SECRET, adminToken: ADM });
  await auth.admin(`Bearer ${ADM}`, undefined);
  await auth.admin(`Bearer ${await jwt({ admin: true })}`, undefined);
  await refused(auth.admin(undefined, "nope"), 401, /not valid/);
});

Deno.test("tokenFromProtocols finds the floodgate.token. subprotocol among others", () => {
  const request = (protocols?: string) =>
    new Request("http://floodgate.test/ws", {
      headers: protocols ? { "sec-websocket-protocol": protocols } : {},
    });
  assert.equal(tokenFromProtocols(request()), undefined);
  assert.equal(tokenFromProtocols(request("floodgate.v1.json")), undefined);
  assert.equal(tokenFromProtocols(request("floodgate.v1.json , floodgate.token.abc")), "abc");
});
