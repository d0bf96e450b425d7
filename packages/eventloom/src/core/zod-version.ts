// What the package says about its zod peer, in a module that does not load zod itself: the CLI
// reads it before anything that would load zod 3 and fail.

/** The `zod` peer dependency range this package is tested with (lowest and newest). */
export const ZOD_RANGE = "^4.0.0";

/**
 * The name of the error core/zod-check.ts throws when it loads with zod 3 installed: the CLI tells it
 * apart by this name (importing zod-check would throw that very error) and reports it in one line.
 */
export const ZOD_VERSION_ERROR = "ZodVersionError";
