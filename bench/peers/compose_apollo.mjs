// Like compose.mjs, but with Apollo's composer (@apollo/composition, installed with @apollo/gateway), for the
// sets the other composer refuses although Apollo composes and plans them (root fields returning Query):
//   node compose_apollo.mjs ../../tests/fixtures/subgraph_sets/reentry
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { parse } from 'graphql';

const require = createRequire(import.meta.url);
const { composeServices } = require('@apollo/composition');

const [folderArg, template = 'http://{name}.local/graphql'] = process.argv.slice(2);
const folder = resolve(folderArg);
const names = readdirSync(folder)
  .filter((file) => file.endsWith('.graphql') && file !== 'supergraph.graphql')
  .map((file) => file.slice(0, -'.graphql'.length))
  .sort();
const result = composeServices(
  names.map((name) => ({
    name,
    url: template.replaceAll('{name}', name),
    typeDefs: parse(readFileSync(join(folder, `${name}.graphql`), 'utf8')),
  })),
);
if (result.errors) {
  for (const error of result.errors) console.error(`composition error: ${error.message}`);
  process.exit(1);
}
writeFileSync(join(folder, 'supergraph.graphql'), result.supergraphSdl);
console.log(`wrote ${join(folder, 'supergraph.graphql')} (${names.join(', ')})`);
