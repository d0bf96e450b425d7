import type { ServerLogger } from "../logger.js";
import type { ServerTracing } from "./tracing-types.js";

/** Where @opentelemetry/api keeps its globals (major version 1): set once an SDK registered a provider. */
const OTEL_GLOBAL = Symbol.for("opentelemetry.js.api.1");

/**
 * The `tracing` option: `true` traces (with the user's registered SDK, else one of our own that
 * exports over OTLP/HTTP), `false` never does; unset traces when a user's SDK is registered or an
 * `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT` is set.
 */
export type TracingOption = boolean | undefined;

/** True when a global OpenTelemetry tracer provider is registered (read without importing the API). */
export function userTracerRegistered(): boolean {
  const api = (globalThis as Record<symbol, { trace?: unknown } | undefined>)[OTEL_GLOBAL];
  return api?.trace !== undefined;
}

/** Whether tracing is on, read from the option, the registered globals and `OTEL_*` variables. */
export function tracingWanted(option: TracingOption, env: NodeJS.ProcessEnv): boolean {
  if (option !== undefined) return option;
  if (env["OTEL_SDK_DISABLED"]?.trim().toLowerCase() === "true") return false;
  if (userTracerRegistered()) return true;
  return Boolean(
    env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]?.trim() || env["OTEL_EXPORTER_OTLP_ENDPOINT"]?.trim(),
  );
}

/**
 * The server's tracing, or null when it is off. Only then is OpenTelemetry imported (dynamically):
 * a server that does not trace loads none of it and pays nothing.
 */
export async function loadTracing(
  option: TracingOption,
  env: NodeJS.ProcessEnv,
  logger: ServerLogger,
): Promise<ServerTracing | null> {
  if (!tracingWanted(option, env)) return null;
  const { OtelTracing } = await import("./otel-tracing.js");
  if (userTracerRegistered()) return new OtelTracing(null);
  const { startOwnSdk } = await import("./own-sdk.js");
  return new OtelTracing(await startOwnSdk(env, logger));
}
