import { readFileSync } from "node:fs";
import { buildOpenApiDocument } from "eventloom/protocol";
import { describe, expect, it } from "vitest";

// The endpoint table of docs/HTTP-API.md; the first test checks that this list is still the document's,
// so that a row added to either fails here.
const endpoints = [
  ["get", "/health"],
  ["get", "/ready"],
  ["get", "/workflows"],
  ["post", "/workflows/{name}/run"],
  ["post", "/workflows/{name}/run-nowait"],
  ["get", "/results/{handler_id}"],
  ["get", "/events/{handler_id}"],
  ["post", "/events/{handler_id}"],
  ["get", "/handlers"],
  ["get", "/handlers/{handler_id}"],
  ["post", "/handlers/{handler_id}/cancel"],
  ["post", "/handlers/{handler_id}/fork"],
  ["get", "/workflows/{name}/schema"],
  ["get", "/workflows/{name}/events"],
  ["get", "/workflows/{name}/representation"],
  ["get", "/openapi.json"],
  ["get", "/metrics"],
].map(([method, path]) => ({ method: method!, path: path! }));
const specFile = new URL("../../../../docs/HTTP-API.md", import.meta.url);

describe("OpenAPI document", () => {
  const doc = buildOpenApiDocument({ title: "T", version: "9.9.9" });

  it("lists exactly the endpoint table of docs/HTTP-API.md", () => {
    const rows = [...readFileSync(specFile, "utf8").matchAll(/^\| (GET|POST) \| `([^`]+)`/gm)]
      .map((m) => ({ method: m[1]!.toLowerCase(), path: m[2]! }))
      .filter((r) => r.path !== "/");
    expect(rows).toEqual(endpoints);
  });

  it("has every path and method of the spec", () => {
    for (const { method, path } of endpoints) {
      expect(doc.paths[path], path).toBeDefined();
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
  });

  it("is OpenAPI 3.1 with the given title and version", () => {
    expect(doc.openapi).toBe("3.1.0");
    expect(doc.info).toMatchObject({ title: "T", version: "9.9.9" });
  });

  it("references only schemas it defines", () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map(
      (m) => m[1]!,
    );
    expect(refs.length).toBeGreaterThan(10);
    for (const id of refs) expect(doc.components.schemas[id], id).toBeDefined();
    expect(JSON.stringify(doc)).not.toContain("$defs");
  });

  it("describes request bodies, query parameters and error responses", () => {
    const run = doc.paths["/workflows/{name}/run"]?.["post"] as Record<string, unknown>;
    expect(JSON.stringify(run["requestBody"])).toContain("#/components/schemas/RunRequest");
    expect(JSON.stringify(run["responses"])).toContain("#/components/schemas/ErrorBody");
    const events = doc.paths["/events/{handler_id}"]?.["get"] as {
      parameters: { name: string; in: string }[];
    };
    const names = events.parameters.filter((p) => p.in === "query").map((p) => p.name);
    expect(names).toEqual([
      "sse",
      "include_internal",
      "include_qualified_name",
      "include_deltas",
      "after_sequence",
      "acquire_timeout",
    ]);
    const handlers = doc.paths["/handlers"]?.["get"] as { parameters: { name: string; explode?: boolean }[] };
    expect(handlers.parameters.find((p) => p.name === "status")?.explode).toBe(true);
    const result = doc.paths["/results/{handler_id}"]?.["get"] as { responses: Record<string, unknown> };
    expect(Object.keys(result.responses)).toEqual(expect.arrayContaining(["200", "202", "404"]));
    expect(doc.components.schemas["HandlerData"]?.["description"]).toBeTypeOf("string");
  });

  it("documents the safe defaults' answers and the Idempotency-Key where they apply", () => {
    const op = (method: string, path: string) =>
      doc.paths[path]?.[method] as {
        responses: Record<string, { headers?: Record<string, unknown> }>;
        parameters?: { name: string; in: string }[];
      };
    for (const { method, path } of endpoints) {
      const codes = Object.keys(op(method, path).responses);
      expect(codes, `${method} ${path}`).toContain("403");
      if (method === "post") expect(codes, `${method} ${path}`).toContain("415");
      else expect(codes, `${method} ${path}`).not.toContain("415");
    }
    const keyed = [
      ["post", "/workflows/{name}/run"],
      ["post", "/workflows/{name}/run-nowait"],
      ["post", "/events/{handler_id}"],
      ["post", "/handlers/{handler_id}/cancel"],
    ];
    for (const [method, path] of endpoints.map((e) => [e.method, e.path])) {
      const o = op(method as string, path as string);
      const isKeyed = keyed.some(([m, p]) => m === method && p === path);
      expect(
        o.parameters?.some((p) => p.in === "header" && p.name === "Idempotency-Key") ?? false,
        path,
      ).toBe(isKeyed);
      if (!isKeyed) continue;
      expect(Object.keys(o.responses), path).toEqual(expect.arrayContaining(["409", "422"]));
      expect(o.responses["200"]?.headers, path).toHaveProperty("Idempotent-Replayed");
    }
    expect(JSON.stringify(op("post", "/events/{handler_id}").responses["400"])).toContain(
      "EVENT_NOT_ACCEPTED_FROM_OUTSIDE",
    );
  });

  it("is plain JSON", () => {
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });
});
