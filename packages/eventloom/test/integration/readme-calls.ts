// Reads the README's "A workflow" section: the `my_server.ts` it shows and the curl calls under it,
// each with the answer its comment promises. The pack test serves the one and runs the others, so
// that the README and what the package does cannot drift apart.

/** One curl line: what it sends and what its comment says comes back. */
export interface ReadmeCall {
  line: string;
  method: string;
  /** Path and query, with placeholders such as `H` still in them. */
  path: string;
  headers: Record<string, string>;
  body: string | undefined;
  /** `NDJSON: …` in the comment: the answer is a stream, and one of its lines matches. */
  ndjson: boolean;
  expected: unknown;
}

const ANY = "\u0000any";
const MORE = "\u0000more";

/** The TypeScript block that starts with `// my_server.ts`. */
export function readmeServerFile(readme: string): string {
  return fileBlock(readme, "my_server.ts");
}

/**
 * The ```ts block of a markdown page whose first line names the file it is: `// <path>`, alone or
 * followed by a comment (`// my_server.ts — serve it with: …`).
 */
export function fileBlock(markdown: string, path: string): string {
  const name = path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const block = new RegExp(`\`\`\`ts\\n(\\/\\/ ${name}(?:[ \\t][^\\n]*)?\\n[\\s\\S]*?)\`\`\``).exec(markdown);
  if (!block?.[1]) throw new Error(`No \`\`\`ts block starting with // ${path}`);
  return block[1];
}

/** The paths of every ```ts block that names its file on its first line (`// <path>`). */
export function fileBlockNames(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n\/\/ (\S+)/g)].map((m) => m[1] as string);
}

/** The shell block right after the `my_server.ts` block: its command and its curl calls. */
export function readmeShellBlock(readme: string): string[] {
  const after = readme.slice(readme.indexOf("// my_server.ts"));
  const block = /```sh\n([\s\S]*?)```/.exec(after);
  if (!block?.[1]) throw new Error("README.md has no ```sh block after my_server.ts");
  return block[1].split("\n").filter((line) => line.trim().length > 0);
}

export function readmeCalls(readme: string): ReadmeCall[] {
  return readmeShellBlock(readme)
    .filter((line) => line.startsWith("curl "))
    .map(parseCurl);
}

function parseCurl(line: string): ReadmeCall {
  const { words, comment } = shellWords(line);
  let method: string | undefined;
  let body: string | undefined;
  let url: string | undefined;
  const headers: Record<string, string> = {};
  for (let i = 1; i < words.length; i++) {
    const word = words[i] as string;
    if (word === "-X") method = words[++i];
    else if (word === "-d") body = words[++i];
    else if (word === "-H") {
      const [name = "", ...value] = (words[++i] ?? "").split(":");
      headers[name.trim().toLowerCase()] = value.join(":").trim();
    } else if (word === "-N" || word === "-s") continue;
    else if (word.startsWith("-")) throw new Error(`README curl option ${word} is not understood: ${line}`);
    else url = word;
  }
  if (url === undefined || comment === undefined)
    throw new Error(`README curl line without URL or answer: ${line}`);
  // curl's -d sends a form unless told otherwise.
  if (body !== undefined && !("content-type" in headers))
    headers["content-type"] = "application/x-www-form-urlencoded";
  const ndjson = comment.startsWith("NDJSON:");
  return {
    line,
    method: method ?? (body === undefined ? "GET" : "POST"),
    path: url.replace(/^(https?:\/\/)?[^/]+/, ""),
    headers,
    body,
    ndjson,
    expected: parseExpected(ndjson ? comment.slice("NDJSON:".length).trim() : comment),
  };
}

/** Splits a shell line into words (single and double quotes) and its trailing `# comment`. */
function shellWords(line: string): { words: string[]; comment: string | undefined } {
  const words: string[] = [];
  let word: string | null = null;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote) {
      if (ch === quote) quote = null;
      else word += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= "";
    } else if (ch === "#" && word === null) {
      return { words, comment: line.slice(i + 1).trim() };
    } else if (/\s/.test(ch)) {
      if (word !== null) words.push(word);
      word = null;
    } else word = (word ?? "") + ch;
  }
  if (word !== null) words.push(word);
  return { words, comment: undefined };
}

/** The comment's JSON, where `…` means "and more fields" and `"…"` means "any value". */
function parseExpected(text: string): unknown {
  const json = text
    .replaceAll('"…"', JSON.stringify(ANY))
    .replaceAll(",…}", `,${JSON.stringify(MORE)}:true}`);
  return JSON.parse(json);
}

/**
 * Why `actual` does not match `expected` (null when it does). A one-letter capital string binds a
 * placeholder the first time and must equal it afterwards.
 */
export function mismatch(
  expected: unknown,
  actual: unknown,
  bindings: Map<string, unknown>,
  at = "$",
): string | null {
  if (expected === ANY) return actual === undefined ? `${at} is missing` : null;
  if (typeof expected === "string" && /^[A-Z]$/.test(expected)) {
    if (!bindings.has(expected)) {
      if (typeof actual !== "string") return `${at}: expected a string for ${expected}`;
      bindings.set(expected, actual);
      return null;
    }
    return bindings.get(expected) === actual ? null : `${at}: expected ${expected}=${bindings.get(expected)}`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length)
      return `${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
    for (let i = 0; i < expected.length; i++) {
      const wrong = mismatch(expected[i], actual[i], bindings, `${at}[${i}]`);
      if (wrong) return wrong;
    }
    return null;
  }
  if (typeof expected === "object" && expected !== null) {
    if (typeof actual !== "object" || actual === null)
      return `${at}: expected an object, got ${JSON.stringify(actual)}`;
    const open = MORE in expected;
    const keys = Object.keys(expected).filter((k) => k !== MORE);
    if (!open) {
      const extra = Object.keys(actual).filter((k) => !keys.includes(k));
      if (extra.length > 0) return `${at}: unexpected fields ${extra.join(", ")}`;
    }
    for (const key of keys) {
      const wrong = mismatch(
        (expected as Record<string, unknown>)[key],
        (actual as Record<string, unknown>)[key],
        bindings,
        `${at}.${key}`,
      );
      if (wrong) return wrong;
    }
    return null;
  }
  return Object.is(expected, actual)
    ? null
    : `${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
}

/** The call's path with its placeholders replaced by what earlier answers bound. */
export function resolvePath(path: string, bindings: Map<string, unknown>): string {
  return path.replace(/(?<=\/)([A-Z])(?=[/?]|$)/g, (name: string) => {
    const value = bindings.get(name);
    if (typeof value !== "string") throw new Error(`placeholder ${name} in ${path} is not bound yet`);
    return encodeURIComponent(value);
  });
}
