import { toJsonText } from "../format.js";

/** JSON shown as text, never as markup. */
export function JsonView({ value }: { value: unknown }) {
  return <pre className="json">{toJsonText(value)}</pre>;
}
