// The reference gateways for the router's differential test (tests/router/differential/), in one Node process:
// for each supergraph file an Apollo Gateway and a Hive Gateway (its runtime, served by node:http), each on its
// own free localhost port.
//
//   NODE_ENV=production node gateways.mjs <name>=<supergraph.graphql> [<name>=<file> ...]
//
// Prints one JSON line {"<name>": {"apollo": "http://127.0.0.1:<port>/graphql", "hive": "..."}, ...} once every
// gateway is listening, then serves until it is killed. A supergraph a gateway refuses to load makes it exit non-zero.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway } from '@apollo/gateway';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';

const pairs = process.argv.slice(2).map((arg) => {
  const at = arg.indexOf('=');
  if (at <= 0) {
    console.error('usage: node gateways.mjs <name>=<supergraph.graphql> ...');
    process.exit(2);
  }
  return [arg.slice(0, at), arg.slice(at + 1)];
});

async function apollo(sdl) {
  const gateway = new ApolloGateway({ supergraphSdl: sdl });
  const server = new ApolloServer({ gateway, includeStacktraceInErrorResponses: false });
  const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port: 0 } });
  return `${url}graphql`;
}

async function hive(sdl) {
  const runtime = createGatewayRuntime({ supergraph: sdl, logging: false });
  const server = http.createServer(runtime);
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${server.address().port}/graphql`;
}

const urls = {};
for (const [name, file] of pairs) {
  const sdl = readFileSync(file, 'utf8');
  urls[name] = { apollo: await apollo(sdl), hive: await hive(sdl) };
}
console.log(JSON.stringify(urls));
