/** Compresses every text file under `dir`; resolves with the bytes before and after (brotli). */
export function precompress(dir: string): Promise<{ before: number; after: number }>;
