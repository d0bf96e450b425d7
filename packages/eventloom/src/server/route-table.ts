/** Every API path with the methods it answers: what tells a 405 from a 404, and what needs a token. */
const ROUTES: { pattern: RegExp; methods: string[] }[] = [
  { pattern: /^\/health\/?$/, methods: ["GET"] },
  { pattern: /^\/openapi\.json$/, methods: ["GET"] },
  { pattern: /^\/workflows\/?$/, methods: ["GET"] },
  { pattern: /^\/workflows\/[^/]+\/run\/?$/, methods: ["POST"] },
  { pattern: /^\/workflows\/[^/]+\/run-nowait\/?$/, methods: ["POST"] },
  { pattern: /^\/workflows\/[^/]+\/schema\/?$/, methods: ["GET"] },
  { pattern: /^\/workflows\/[^/]+\/events\/?$/, methods: ["GET"] },
  { pattern: /^\/workflows\/[^/]+\/representation\/?$/, methods: ["GET"] },
  { pattern: /^\/results\/[^/]+\/?$/, methods: ["GET"] },
  { pattern: /^\/events\/[^/]+\/?$/, methods: ["GET", "POST"] },
  { pattern: /^\/handlers\/?$/, methods: ["GET"] },
  { pattern: /^\/handlers\/[^/]+\/?$/, methods: ["GET"] },
  { pattern: /^\/handlers\/[^/]+\/cancel\/?$/, methods: ["POST"] },
];

/** The methods an API path answers, or null when it is not an API path. */
export function allowedMethods(pathname: string): string[] | null {
  const route = ROUTES.find((r) => r.pattern.test(pathname));
  return route ? route.methods : null;
}

/** Paths under these prefixes belong to the API even when no route matches (404 JSON, not the UI). */
export const isApiPath = (pathname: string): boolean =>
  allowedMethods(pathname) !== null || /^\/(workflows|results|events|handlers)(\/|$)/.test(pathname);
