// GraphQL Code Generator: typed documents for every operation in src/, from the router's API
// schema (schema.graphql, written by `python -m setrum.webapp schema`). The client preset also
// writes persisted-documents.json (sha256 hash -> document), which the build ships next to the app
// so the router can load the app's operations as trusted documents.
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  schema: "schema.graphql",
  documents: ["src/**/*.{ts,tsx}", "!src/gql/**"],
  ignoreNoDocuments: false,
  generates: {
    "src/gql/": {
      preset: "client",
      presetConfig: {
        fragmentMasking: false,
        persistedDocuments: { mode: "embedHashInDocument", hashAlgorithm: "sha256" },
      },
      config: {
        enumsAsTypes: true,
        useTypeImports: true,
        scalars: { Decimal: "string", DateTime: "string" },
        skipTypename: false,
      },
    },
  },
};

export default config;
