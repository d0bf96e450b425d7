export {
  type Draft,
  draftFromValue,
  type ExtraEntry,
  initialDraft,
  isObjectDraft,
  isUnionDraft,
  type ObjectDraft,
  type UnionDraft,
} from "./draft.js";
export * from "./field-model.js";
export type { JsonSchema } from "./json-schema.js";
export { type FormIssue, issuesAt, type ReadResult, readDraft } from "./read-draft.js";
