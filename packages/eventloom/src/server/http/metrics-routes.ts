import { PROMETHEUS_CONTENT_TYPE } from "../metrics/index.js";
import type { ServerContext } from "../server-context.js";
import type { BytesAnswer } from "./answer.js";
import type { RouteHandlers } from "./route-handler.js";

/** GET /metrics: this process's metrics in the Prometheus text format; the gauges are read now. */
export const metricsHandlers: RouteHandlers<"getMetrics"> = {
  getMetrics: async (ctx: ServerContext): Promise<BytesAnswer> => {
    const { manager, metrics } = await ctx.runtime();
    const active = new Map<string, number>();
    for (const id of manager.liveIds()) {
      const run = manager.live(id);
      // Ended runs stay in memory until their final commit is durable: they are no longer active.
      if (run?.engine?.state.status !== "running") continue;
      active.set(run.entry.name, (active.get(run.entry.name) ?? 0) + 1);
    }
    const body = metrics.render({ workflows: ctx.registry.names, active, streamReaders: ctx.streams.size });
    return { kind: "bytes", status: 200, body, headers: { "content-type": PROMETHEUS_CONTENT_TYPE } };
  },
};
