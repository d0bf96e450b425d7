import { createHash, timingSafeEqual } from "node:crypto";

const digest = (value: string): Buffer => createHash("sha256").update(value, "utf8").digest();

/**
 * Checks an `Authorization` header against the token in constant time: both sides are hashed first,
 * so neither the comparison nor the lengths reveal anything about the token.
 */
export function makeBearerCheck(token: string): (authorization: string | null | undefined) => boolean {
  const expected = digest(token);
  return (authorization) => {
    const match = /^Bearer[ \t]+(.+)$/i.exec(authorization?.trim() ?? "");
    const given = digest(match?.[1]?.trim() ?? "");
    return timingSafeEqual(given, expected) && match !== null;
  };
}
