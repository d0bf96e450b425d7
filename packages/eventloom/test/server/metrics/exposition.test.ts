import { describe, expect, test } from "vitest";
import { ExpositionWriter } from "../../../src/server/metrics/exposition.js";
import { Histogram } from "../../../src/server/metrics/histogram.js";
import { parsePrometheusText, sampleValue } from "../../support/prometheus-text.js";

describe("ExpositionWriter", () => {
  test("escapes label values and HELP text so that any workflow or step name reads back as written", () => {
    const name = 'a "quoted" back\\slash\nand a line';
    const text = new ExpositionWriter()
      .family("x_total", "counter", "Help with a \\ and a\nline feed.")
      .sample("x_total", [["workflow", name]], 7)
      .toString();
    const m = parsePrometheusText(text);
    expect(m.get("x_total")?.help).toBe("Help with a \\ and a\nline feed.");
    expect(sampleValue(m, "x_total", "x_total", { workflow: name })).toBe(7);
  });

  test("writes a histogram's buckets cumulative, values above every bound only in +Inf", () => {
    const h = new Histogram([0.1, 1]);
    for (const v of [0.05, 0.1, 0.5, 3]) h.observe(v);
    const m = parsePrometheusText(
      new ExpositionWriter().family("h", "histogram", "H.").histogram("h", [], h).toString(),
    );
    expect(
      [["0.1"], ["1"], ["+Inf"]].map(([le]) => sampleValue(m, "h", "h_bucket", { le: le as string })),
    ).toEqual([2, 3, 4]);
    expect(sampleValue(m, "h", "h_sum")).toBeCloseTo(3.65);
    expect(sampleValue(m, "h", "h_count")).toBe(4);
  });
});
