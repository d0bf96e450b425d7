import { z } from "zod";

/**
 * Where the wire schemas of `wire.ts` and `wire-queries.ts` register their ids and descriptions.
 */
export interface WireMeta {
  id?: string;
  description?: string;
  examples?: unknown[];
  // zod 4.0's registries require an index signature of their metadata type.
  [key: string]: unknown;
}

/** Ids and descriptions of the wire schemas: the source of the OpenAPI document's components. */
export const wireRegistry = z.registry<WireMeta>();

export function named<T extends z.ZodType>(
  schema: T,
  id: string,
  description: string,
  examples?: unknown[],
): T {
  wireRegistry.add(schema, examples === undefined ? { id, description } : { id, description, examples });
  return schema;
}

export function described<T extends z.ZodType>(schema: T, description: string): T {
  wireRegistry.add(schema, { description });
  return schema;
}
