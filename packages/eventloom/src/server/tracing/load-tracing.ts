import type { ServerLogger } from "../logger.js";
import type { OwnSdk } from "./own-sdk.js";
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
  // A registered provider that is not the one our servers share is the user's.
  if (shared === null && userTracerRegistered()) return new OtelTracing(null);
  return new OtelTracing(await useSharedSdk(env, logger));
}

/** The SDK the servers of this process started, while one of them is open. */
let shared: { sdk: Promise<OwnSdk>; users: number } | null = null;

/** Our own SDK, shared by every server of the process that traces with it: the last one to close stops it. */
async function useSharedSdk(env: NodeJS.ProcessEnv, logger: ServerLogger): Promise<OwnSdk> {
  if (shared === null) {
    const sdk = import("./own-sdk.js").then((m) => m.startOwnSdk(env, logger));
    shared = { sdk, users: 0 };
    sdk.catch(() => {
      if (shared?.sdk === sdk) shared = null;
    });
  }
  const mine = shared;
  mine.users++;
  let sdk: OwnSdk;
  try {
    sdk = await mine.sdk;
  } catch (error) {
    mine.users--;
    throw error;
  }
  let closed = false;
  return {
    async shutdown() {
      if (closed) return;
      closed = true;
      if (--mine.users > 0) return;
      if (shared === mine) shared = null;
      await sdk.shutdown();
    },
  };
}
