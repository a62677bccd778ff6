// The app is served by the router under /app/ (ROUTER_WEB_APP_DIR); the build also ships the
// persisted-documents manifest that GraphQL Code Generator wrote for the app's operations.
import { readFileSync } from "node:fs";
import { defineConfig, type Plugin } from "vite";

function persistedDocuments(): Plugin {
  return {
    name: "setrum-persisted-documents",
    apply: "build",
    generateBundle() {
      this.emitFile({
        type: "asset",
        fileName: "persisted-documents.json",
        source: readFileSync(new URL("./src/gql/persisted-documents.json", import.meta.url), "utf-8"),
      });
    },
  };
}

export default defineConfig({
  base: "/app/",
  esbuild: { jsx: "automatic", jsxImportSource: "preact" },
  plugins: [persistedDocuments()],
  build: { target: "es2020", outDir: "dist", emptyOutDir: true, sourcemap: false },
  server: { proxy: { "/graphql": "http://127.0.0.1:4000" } },
});
