import { SignJWT } from "jose";

/** The HS256 secret test servers use. */
export const TEST_SECRET = "test-secret-of-at-least-32-bytes!!";

/** Signs a JWT with `claims`, expiring in `expiresInSec` (negative: already expired). */
export function signToken(
  claims: { sub?: string; subscribe?: string[]; publish?: string[]; admin?: boolean },
  expiresInSec = 3600,
  secret = TEST_SECRET,
): Promise<string> {
  const jwt = new SignJWT({
    subscribe: claims.subscribe,
    publish: claims.publish,
    admin: claims.admin,
  })
    .setProtectedHeader({ alg: "HS256" })
    .setExpirationTime(Math.floor(Date.now() / 1000) + expiresInSec);
  if (claims.sub) jwt.setSubject(claims.sub);
  return jwt.sign(new TextEncoder().encode(secret));
}
