// zod is a peer dependency (^4.0.0): zod 3, or a schema made with zod 3's API (`zod/v3`, which zod 4
// still ships), is refused with one line that says what to install, not a 500 at the first request.
import { defineEvent } from "eventloom";
import { describe, expect, test } from "vitest";
import { z } from "zod";
import { z as z3 } from "zod/v3";
import { assertZod4 } from "../../src/core/zod-check.js";

describe("the zod peer dependency", () => {
  test("zod 4 passes the check the package runs when it loads", () => {
    expect(() => assertZod4(z)).not.toThrow();
  });

  test("zod 3's API is refused with one line naming zod 4", () => {
    expect(() => assertZod4(z3)).toThrow(
      "eventloom needs zod ^4.0.0 (a peer dependency), but the installed zod is older (zod 3?): run `npm install zod@^4`",
    );
  });

  test("defineEvent refuses a zod 3 schema by the event's name", () => {
    const schema = z3.object({ name: z3.string() });
    expect(() => defineEvent("Zod3Event", schema as never)).toThrow(
      /^defineEvent\("Zod3Event"\): the schema is not a zod 4 schema \(zod 3 or `zod\/v3`\?\)/,
    );
  });
});
