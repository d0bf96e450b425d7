// Issue 21, item 8: a deadlock, a serialization failure or a statement stopped by a timeout is worth a
// retry, not a bug of the request: 503 STORE_UNAVAILABLE (with Retry-After), never a bare 500.
import { expect, it } from "vitest";
import { statusOf } from "../../src/protocol/error-status.js";
import { isConnectionError, isRetryable, toStoreError } from "../../src/stores/postgres/store-errors.js";

const pgError = (code: string) => Object.assign(new Error(`database error ${code}`), { code });

it("answers deadlocks, serialization failures and timeouts 503, and runs the first two again", () => {
  for (const code of ["40P01", "40001", "55P03", "57014"]) {
    const error = toStoreError(pgError(code));
    expect([code, (error as { code?: string }).code, statusOf(error)]).toEqual([
      code,
      "STORE_UNAVAILABLE",
      503,
    ]);
    // The connection is fine: it goes back to the pool.
    expect(isConnectionError(pgError(code))).toBe(false);
  }
  expect(isRetryable(pgError("40P01"))).toBe(true);
  expect(isRetryable(pgError("40001"))).toBe(true);
  expect(isRetryable(pgError("57014"))).toBe(false);
  expect(isRetryable(pgError("23505"))).toBe(false);
});
