// A strict parser of the Prometheus text exposition format 0.0.4, for tests: it throws on any line
// the format does not allow, on samples without a TYPE, on a series written twice, and on histograms
// whose buckets are not cumulative or whose +Inf bucket is not their count.

export interface Sample {
  /** The sample's own name: `x_bucket`, `x_sum`, `x_count` for a histogram `x`. */
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  type: "counter" | "gauge" | "histogram" | "summary" | "untyped";
  help: string | null;
  samples: Sample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(["counter", "gauge", "histogram", "summary", "untyped"]);

/** Parses a whole exposition; throws an Error naming the line on anything malformed. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("the exposition must end with a line feed");
  const families = new Map<string, MetricFamily>();
  const seen = new Set<string>();
  const lines = text.split("\n");
  lines.pop();
  let current: MetricFamily | null = null;
  lines.forEach((line, index) => {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    try {
      if (line.trim() === "") return;
      if (line.startsWith("#")) {
        const m = /^# (HELP|TYPE) ([^ ]+)(?: (.*))?$/.exec(line);
        if (!m) {
          if (/^#\s*(HELP|TYPE)\b/.test(line)) throw new Error("malformed HELP or TYPE line");
          return; // Any other comment is allowed.
        }
        const [, keyword, name, rest] = m as unknown as [string, string, string, string | undefined];
        if (!METRIC_NAME.test(name)) throw new Error(`bad metric name ${name}`);
        const family = families.get(name) ?? { name, type: "untyped" as const, help: null, samples: [] };
        if (keyword === "HELP") {
          if (family.help !== null) throw new Error(`a second HELP for ${name}`);
          family.help = unescapeText(rest ?? "", false);
        } else {
          if (families.get(name)?.samples.length || (families.has(name) && family.type !== "untyped")) {
            throw new Error(`TYPE for ${name} after its samples or a second TYPE`);
          }
          if (!rest || !TYPES.has(rest)) throw new Error(`bad type ${rest}`);
          family.type = rest as MetricFamily["type"];
        }
        families.set(name, family);
        current = family;
        return;
      }
      const sample = parseSample(line);
      const family: MetricFamily | null = current;
      if (!family || family.type === "untyped" || !belongsTo(sample.name, family)) {
        throw new Error(`sample ${sample.name} outside its family's TYPE`);
      }
      const key = `${sample.name}{${Object.keys(sample.labels)
        .sort()
        .map((k) => `${k}=${JSON.stringify(sample.labels[k])}`)
        .join(",")}}`;
      if (seen.has(key)) throw new Error(`series ${key} written twice`);
      seen.add(key);
      family.samples.push(sample);
    } catch (error) {
      throw new Error(`${where}: ${(error as Error).message}`);
    }
  });
  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  return families;
}

function belongsTo(sampleName: string, family: MetricFamily): boolean {
  if (family.type === "histogram") {
    return [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`].includes(sampleName);
  }
  if (family.type === "summary") {
    return [family.name, `${family.name}_sum`, `${family.name}_count`].includes(sampleName);
  }
  return sampleName === family.name;
}

function parseSample(line: string): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new Error("a sample must start with a metric name");
  const name = nameMatch[0];
  let i = name.length;
  const labels: Record<string, string> = {};
  if (line[i] === "{") {
    i++;
    for (;;) {
      if (line[i] === "}") {
        i++;
        break;
      }
      const labelMatch = /^[^=]*/.exec(line.slice(i)) as RegExpExecArray;
      const labelName = labelMatch[0];
      if (!LABEL_NAME.test(labelName)) throw new Error(`bad label name ${JSON.stringify(labelName)}`);
      if (labelName in labels) throw new Error(`label ${labelName} twice`);
      i += labelName.length;
      if (line[i] !== "=" || line[i + 1] !== '"') throw new Error(`label ${labelName} has no quoted value`);
      i += 2;
      let raw = "";
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error("unterminated label value");
        if (c === '"') break;
        if (c === "\\") {
          const next = line[i + 1];
          if (next !== "\\" && next !== '"' && next !== "n") throw new Error(`bad escape \\${next ?? ""}`);
          raw += c + next;
          i += 2;
          continue;
        }
        raw += c;
        i++;
      }
      labels[labelName] = unescapeText(raw, true);
      i++;
      if (line[i] === ",") i++;
      else if (line[i] !== "}") throw new Error("labels must be separated by commas");
    }
  }
  const rest = line.slice(i);
  const m = /^ ([^ ]+)(?: (-?[0-9]+))?$/.exec(rest);
  if (!m) throw new Error("a sample is `name{labels} value [timestamp]`, separated by single spaces");
  return { name, labels, value: parseValue(m[1] as string) };
}

function parseValue(text: string): number {
  if (text === "+Inf") return Number.POSITIVE_INFINITY;
  if (text === "-Inf") return Number.NEGATIVE_INFINITY;
  if (text === "NaN") return Number.NaN;
  if (!/^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/.test(text)) {
    throw new Error(`bad value ${JSON.stringify(text)}`);
  }
  return Number(text);
}

function unescapeText(text: string, quotes: boolean): string {
  return text.replace(/\\(.)/g, (whole, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    if (c === '"' && quotes) return '"';
    return whole;
  });
}

/** Buckets cumulative with `le` ascending, a +Inf bucket equal to `_count`, for each label set. */
function checkHistogram(family: MetricFamily): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number; sum?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    const group = groups.get(key) ?? { buckets: [] };
    groups.set(key, group);
    if (s.name.endsWith("_bucket")) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      group.buckets.push([parseValue(le), s.value]);
    } else if (le !== undefined) {
      throw new Error(`${family.name}: le on ${s.name}`);
    } else if (s.name.endsWith("_count")) {
      group.count = s.value;
    } else {
      group.sum = s.value;
    }
  }
  for (const [key, g] of groups) {
    const last = g.buckets.at(-1);
    if (!last || last[0] !== Number.POSITIVE_INFINITY)
      throw new Error(`${family.name}${key}: no +Inf bucket`);
    if (g.count === undefined || g.sum === undefined)
      throw new Error(`${family.name}${key}: no _sum or _count`);
    if (last[1] !== g.count) throw new Error(`${family.name}${key}: +Inf bucket is not _count`);
    for (let i = 1; i < g.buckets.length; i++) {
      const [le, n] = g.buckets[i] as [number, number];
      const [prevLe, prevN] = g.buckets[i - 1] as [number, number];
      if (!(le > prevLe) || n < prevN) throw new Error(`${family.name}${key}: buckets not cumulative`);
    }
  }
}

/** The value of the one sample of `name` whose labels are exactly `labels`; throws when there is none. */
export function sampleValue(
  families: Map<string, MetricFamily>,
  family: string,
  name: string,
  labels: Record<string, string> = {},
): number {
  const f = families.get(family);
  if (!f) throw new Error(`no family ${family}`);
  const want = JSON.stringify(Object.entries(labels).sort());
  const found = f.samples.find(
    (s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === want,
  );
  if (!found) throw new Error(`no sample ${name}${want} in ${family}`);
  return found.value;
}
