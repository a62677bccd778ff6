// Compose a folder of subgraph SDLs (<name>.graphql each) into <folder>/supergraph.graphql with an independent
// composer, @theguild/federation-composition, so our own composer and router can be checked against it:
//   node compose.mjs [folder=.] [url template='http://{name}.local/graphql'] [out=<folder>/supergraph.graphql]
// supergraph.graphql and reference.graphql in the folder are not inputs. Examples (from bench/peers/):
//   node compose.mjs                                        # this benchmark workload
//   node compose.mjs ../../tests/fixtures/subgraph_sets/keys
//   node compose.mjs ../../tests/fixtures/subgraph_apps/shop 'http://shop.local/{name}/graphql'
//   node compose.mjs ../../tests/router/composition/cases/fed1 'http://{name}/graphql' reference.graphql
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'graphql';
import { composeServices, compositionHasErrors } from '@theguild/federation-composition';

const [folderArg, template = 'http://{name}.local/graphql', outArg] = process.argv.slice(2);
const folder = resolve(folderArg ?? fileURLToPath(new URL('.', import.meta.url)));
const out = outArg ? resolve(folder, outArg) : join(folder, 'supergraph.graphql');
const notInputs = new Set(['supergraph.graphql', 'reference.graphql']);
const names = readdirSync(folder)
  .filter((file) => file.endsWith('.graphql') && !notInputs.has(file))
  .map((file) => file.slice(0, -'.graphql'.length))
  .sort();
const result = composeServices(
  names.map((name) => ({
    name,
    url: template.replaceAll('{name}', name),
    typeDefs: parse(readFileSync(join(folder, `${name}.graphql`), 'utf8')),
  })),
);
if (compositionHasErrors(result)) {
  for (const error of result.errors) console.error(`composition error: ${error.message}`);
  process.exit(1);
}
writeFileSync(out, result.supergraphSdl);
console.log(`wrote ${out} (${names.join(', ')})`);
