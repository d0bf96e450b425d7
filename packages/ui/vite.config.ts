import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

export default defineConfig({
  // Relative asset URLs, so the debugger works under any mount path of the server.
  base: "./",
  plugins: [react()],
  resolve: {
    alias: [
      // The UI bundles the client from source: it speaks to the server only through it.
      {
        find: /^eventloom\/client$/,
        replacement: fileURLToPath(new URL("../eventloom/src/client/index.ts", import.meta.url)),
      },
    ],
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    target: "es2022",
    // Hashed names under assets/ are served as immutable; index.html is the only file that changes.
    assetsDir: "assets",
    // React, React Flow and the client (zod-free): ~460 kB (~145 kB gzipped) in one chunk.
    // ELK (1.6 MB) is not in it: it is a worker asset fetched when a graph is first laid out.
    chunkSizeWarningLimit: 700,
  },
});
