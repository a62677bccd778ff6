// Apollo Gateway serving a supergraph file, one process:  NODE_ENV=production node apollo.mjs <supergraph.graphql> [port]
// startStandaloneServer answers GraphQL on any path; the bench posts to /graphql.
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { ApolloGateway } from '@apollo/gateway';

const [supergraphFile, port = '4000'] = process.argv.slice(2);
if (!supergraphFile) {
  console.error('usage: node apollo.mjs <supergraph.graphql> [port]');
  process.exit(2);
}
const gateway = new ApolloGateway({ supergraphSdl: readFileSync(supergraphFile, 'utf8') });
const { url } = await startStandaloneServer(new ApolloServer({ gateway }), {
  listen: { host: '127.0.0.1', port: Number(port) },
});
console.log(`Apollo Gateway at ${url}graphql`);
