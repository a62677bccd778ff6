// The public gateway benchmark's four subgraphs (accounts, inventory, products, reviews) in one Node process,
// built with @apollo/subgraph from the SDL files beside this script and the data in data.json.
//
//   node server.mjs [port=4200]
//   POST /<name>/graphql (or /<name>)   GET /health   GET /stats
//
// By default every distinct (subgraph, request body) is executed once and its serialized answer replayed
// afterwards, so the subgraphs cost almost nothing and the gateway in front is what a benchmark measures.
// SUBGRAPH_MEMO=0 executes every request.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { execute, parse, validate } from 'graphql';
import { buildSubgraphSchema } from '@apollo/subgraph';

const file = (name) => readFileSync(new URL(name, import.meta.url), 'utf8');
const data = JSON.parse(file('./data.json'));

const userById = new Map(data.users.map((u) => [u.id, u]));
const productByUpc = new Map(data.products.map((p) => [p.upc, p]));
const reviewById = new Map(data.reviews.map((r) => [r.id, r]));
const product = ({ upc, name, price, weight }) => ({ upc, name, price, weight });

// Resolvers keep the reference implementation's quirks, so answers match its published expected response:
// inventory rebuilds a Product from its own table (the @requires'd price and weight it is sent are dropped,
// so shippingEstimate is null), reviews answers a fixed author and the first two reviews for any user.
const resolvers = {
  accounts: {
    Query: {
      me: () => data.users[0],
      user: (_, { id }) => userById.get(id) ?? null,
      users: () => data.users,
    },
    User: { __resolveReference: ({ id }) => userById.get(id) ?? null },
  },
  products: {
    Query: { topProducts: (_, { first }) => data.products.slice(0, first ?? 5).map(product) },
    Product: {
      __resolveReference: ({ upc }) => {
        const found = productByUpc.get(upc);
        return found ? product(found) : null;
      },
    },
  },
  inventory: {
    Product: {
      __resolveReference: ({ upc }) => ({ upc, price: null, weight: null, inStock: productByUpc.get(upc)?.inStock ?? null }),
      shippingEstimate: ({ price, weight }) => {
        if (price == null) return null;
        if (price > 1000) return 0;
        return weight == null ? null : Math.trunc(weight / 2);
      },
    },
  },
  reviews: {
    Review: {
      __resolveReference: ({ id }) => reviewById.get(id) ?? null,
      product: (review) => ({ upc: review.upc }),
      author: () => ({ id: '1', username: 'urigo' }),
    },
    User: {
      __resolveReference: ({ id }) => ({ id, username: 'user' }),
      reviews: () => data.reviews.slice(0, 2),
    },
    Product: {
      __resolveReference: ({ upc }) => ({ upc }),
      reviews: ({ upc }) => data.reviews.filter((r) => r.upc === upc),
    },
  },
};

const schemas = new Map(
  Object.entries(resolvers).map(([name, r]) => [
    name,
    buildSubgraphSchema([{ typeDefs: parse(file(`./${name}.graphql`)), resolvers: r }]),
  ]),
);

const MEMO = process.env.SUBGRAPH_MEMO !== '0';
const answers = new Map(); // name + NUL + raw body -> serialized response
const documents = new Map(); // name + NUL + query -> validated document
const requests = Object.fromEntries([...schemas.keys()].map((n) => [n, 0]));

async function answer(name, raw) {
  const { query, variables, operationName } = JSON.parse(raw);
  const key = `${name}\0${query}`;
  let document = documents.get(key);
  if (document === undefined) {
    document = parse(query);
    const errors = validate(schemas.get(name), document);
    if (errors.length) return JSON.stringify({ errors: errors.map((e) => ({ message: e.message })) });
    documents.set(key, document);
  }
  const result = await execute({ schema: schemas.get(name), document, variableValues: variables, operationName });
  return JSON.stringify(result);
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body);
}

const server = http.createServer((req, res) => {
  const path = req.url.split('?')[0].replace(/^\/+|\/+$/g, '');
  if (req.method === 'GET' && path === 'health') return send(res, 200, '{"status":"UP"}');
  if (req.method === 'GET' && path === 'stats') return send(res, 200, JSON.stringify({ requests, memoised: answers.size, memo: MEMO }));
  const name = path.replace(/\/graphql$/, '');
  if (req.method !== 'POST' || !schemas.has(name)) return send(res, 404, '{"errors":[{"message":"not found"}]}');
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', async () => {
    requests[name] += 1;
    const raw = Buffer.concat(chunks).toString('utf8');
    const key = `${name}\0${raw}`;
    try {
      let body = MEMO ? answers.get(key) : undefined;
      if (body === undefined) {
        body = await answer(name, raw);
        if (MEMO) answers.set(key, body);
      }
      send(res, 200, body);
    } catch (error) {
      send(res, 400, JSON.stringify({ errors: [{ message: String(error?.message ?? error) }] }));
    }
  });
});
server.keepAliveTimeout = 65_000;
const port = Number(process.argv[2] ?? 4200);
server.listen(port, '127.0.0.1', () => console.log(`benchmark subgraphs on http://127.0.0.1:${port}/<name>/graphql (memo ${MEMO})`));
