import { context, propagation, trace } from "@opentelemetry/api";
import {
  defaultResource,
  detectResources,
  envDetector,
  resourceFromAttributes,
} from "@opentelemetry/resources";
import { BatchSpanProcessor, type SpanExporter } from "@opentelemetry/sdk-trace-base";
import { NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import type { ServerLogger } from "../logger.js";

/** The SDK the server started because none was registered: it stops it when it closes. */
export interface OwnSdk {
  shutdown(): Promise<void>;
}

/**
 * Starts and registers (globally, so that spans user code makes in a step are exported too) a tracer
 * provider that batches spans to the OTLP/HTTP exporter the `OTEL_*` variables describe: endpoint,
 * headers, `OTEL_EXPORTER_OTLP_PROTOCOL` (`http/protobuf` by default, or `http/json`),
 * `OTEL_SERVICE_NAME` (default `eventloom`), `OTEL_RESOURCE_ATTRIBUTES`, `OTEL_BSP_*`.
 */
export async function startOwnSdk(env: NodeJS.ProcessEnv, logger: ServerLogger): Promise<OwnSdk> {
  const resource = defaultResource()
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: "eventloom" }))
    .merge(detectResources({ detectors: [envDetector] }));
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors: [new BatchSpanProcessor(await exporterFor(env, logger))],
  });
  provider.register();
  return {
    async shutdown() {
      try {
        await provider.shutdown();
      } finally {
        // A server started later in this process registers its own again.
        trace.disable();
        context.disable();
        propagation.disable();
      }
    },
  };
}

async function exporterFor(env: NodeJS.ProcessEnv, logger: ServerLogger): Promise<SpanExporter> {
  const protocol = (
    env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] ??
    env["OTEL_EXPORTER_OTLP_PROTOCOL"] ??
    "http/protobuf"
  ).trim();
  if (protocol === "http/json") {
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    return new OTLPTraceExporter();
  }
  if (protocol !== "http/protobuf") {
    logger.warn(`OTEL_EXPORTER_OTLP_PROTOCOL "${protocol}" is not supported here; spans go as http/protobuf`);
  }
  const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-proto");
  return new OTLPTraceExporter();
}
