import { z } from "zod";
import { ZOD_RANGE, ZOD_VERSION_ERROR } from "./zod-version.js";

/**
 * Throws one clear line when the `zod` the package loaded is not zod 4 (zod 3 has no
 * `toJSONSchema`): failing when the package loads beats a 500 on the first schema request.
 */
export function assertZod4(zod: object): void {
  if (typeof (zod as { toJSONSchema?: unknown }).toJSONSchema === "function") return;
  const error = new Error(
    `eventloom needs zod ${ZOD_RANGE} (a peer dependency), but the installed zod is older (zod 3?): run \`npm install zod@^4\``,
  );
  error.name = ZOD_VERSION_ERROR;
  throw error;
}

/**
 * Throws a TypeError naming the event when `schema` is not a zod 4 schema, e.g. one made with zod 3
 * or `zod/v3`, whose schemas lack zod 4's `_zod` internals.
 */
export function assertZod4Schema(eventName: string, schema: unknown): void {
  if (typeof schema === "object" && schema !== null && "_zod" in schema) return;
  throw new TypeError(
    `defineEvent("${eventName}"): the schema is not a zod 4 schema (zod 3 or \`zod/v3\`?); eventloom needs zod ${ZOD_RANGE}: import { z } from "zod" with zod 4 installed`,
  );
}

assertZod4(z);
