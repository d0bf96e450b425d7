import type { Histogram } from "./histogram.js";

/** The content type of the Prometheus text exposition format this writer produces. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** Label names and values of one series, in the order written. */
export type Labels = readonly (readonly [name: string, value: string])[];

/**
 * Writes the Prometheus text exposition format (version 0.0.4): a family's HELP and TYPE lines,
 * then its samples. Only what the server's fixed metric set needs: counters, gauges, histograms.
 */
export class ExpositionWriter {
  #text = "";

  /** Starts a family: its HELP and TYPE lines. */
  family(name: string, type: "counter" | "gauge" | "histogram", help: string): this {
    this.#text += `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}\n`;
    return this;
  }

  /** One sample of a counter or gauge. */
  sample(name: string, labels: Labels, value: number): this {
    this.#text += `${name}${labelText(labels)} ${formatValue(value)}\n`;
    return this;
  }

  /** A histogram series: cumulative buckets (`le`), then `_sum` and `_count`. */
  histogram(name: string, labels: Labels, h: Histogram): this {
    let cumulative = 0;
    for (let i = 0; i < h.bounds.length; i++) {
      cumulative += h.counts[i] as number;
      this.sample(`${name}_bucket`, [...labels, ["le", formatValue(h.bounds[i] as number)]], cumulative);
    }
    this.sample(`${name}_bucket`, [...labels, ["le", "+Inf"]], h.count);
    this.sample(`${name}_sum`, labels, h.sum);
    return this.sample(`${name}_count`, labels, h.count);
  }

  toString(): string {
    return this.#text;
  }
}

function labelText(labels: Labels): string {
  if (labels.length === 0) return "";
  return `{${labels.map(([name, value]) => `${name}="${escapeLabelValue(value)}"`).join(",")}}`;
}

/** In a label value: backslash, double quote and line feed are escaped. */
const escapeLabelValue = (value: string): string =>
  value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

/** In HELP text: backslash and line feed are escaped. */
const escapeHelp = (text: string): string => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return String(value);
}
