import { type ErrorCode, WorkflowError } from "eventloom";
import { ERROR_CODES, ERROR_STATUS, errorBody, isErrorCode, statusOf } from "eventloom/protocol";
import { describe, expect, it } from "vitest";

describe("error status table", () => {
  it("maps every error code to an HTTP error status", () => {
    // `satisfies Record<ErrorCode, number>` makes a missing code a type error; this checks the values.
    expect(ERROR_CODES.length).toBeGreaterThanOrEqual(27);
    for (const code of ERROR_CODES) {
      expect(ERROR_STATUS[code]).toBeGreaterThanOrEqual(400);
      expect(ERROR_STATUS[code]).toBeLessThan(600);
    }
  });

  it("gives the statuses the contract names", () => {
    const expected: Partial<Record<ErrorCode, number>> = {
      INVALID_JSON: 400,
      VALIDATION_ERROR: 400,
      UNKNOWN_EVENT: 400,
      UNKNOWN_STEP: 400,
      STEP_REJECTS_EVENT: 400,
      INVALID_CURSOR: 400,
      INVALID_HANDLER_ID: 400,
      UNAUTHORIZED: 401,
      HANDLER_NOT_FOUND: 404,
      WORKFLOW_NOT_FOUND: 404,
      NOT_FOUND: 404,
      METHOD_NOT_ALLOWED: 405,
      HANDLER_RUNNING: 409,
      HANDLER_ENDED: 409,
      PAYLOAD_TOO_LARGE: 413,
      // issue 21: a retry of a request whose handler was taken over succeeds
      LEASE_LOST: 503,
    };
    for (const [code, status] of Object.entries(expected))
      expect([code, ERROR_STATUS[code as ErrorCode]]).toEqual([code, status]);
  });

  it("builds {detail, code, issues} from a WorkflowError", () => {
    const issues = [{ path: "start_event.name", message: "Required" }];
    const error = new WorkflowError("VALIDATION_ERROR", "Invalid StartEvent", { issues });
    expect(errorBody(error)).toEqual({ detail: "Invalid StartEvent", code: "VALIDATION_ERROR", issues });
    expect(statusOf(error)).toBe(400);
    expect(errorBody(new WorkflowError("HANDLER_NOT_FOUND", "Handler not found"))).toEqual({
      detail: "Handler not found",
      code: "HANDLER_NOT_FOUND",
    });
  });

  it("uses the code of an error that is not a WorkflowError but carries a known code", () => {
    const error = Object.assign(new Error("Bad cursor"), { code: "INVALID_CURSOR" });
    expect(statusOf(error)).toBe(400);
    expect(errorBody(error)).toEqual({ detail: "Bad cursor", code: "INVALID_CURSOR" });
  });

  it("hides the message of an unknown error behind INTERNAL_ERROR", () => {
    const error = new Error("password=hunter2 at /srv/db");
    expect(statusOf(error)).toBe(500);
    expect(errorBody(error)).toEqual({ detail: "Internal server error", code: "INTERNAL_ERROR" });
    expect(errorBody("a string")).toEqual({ detail: "Internal server error", code: "INTERNAL_ERROR" });
    expect(isErrorCode("ENOENT")).toBe(false);
    expect(isErrorCode("toString")).toBe(false);
  });
});
