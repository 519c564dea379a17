import { createServer } from 'node:http';

/**
 * The floor of the `/v1/info` figure (issue 14): a Node server that answers
 * every request with a constant body of /v1/info's shape, no framework and no
 * database, on the same cores. Probed as the API is, in the same phases: what
 * one request costs on that machine at that moment. Started as a child
 * process by bench/info.bench.ts; prints `{"port": n}` once listening.
 */
const BODY = JSON.stringify({ info: { version: 'bare' }, database: { all_entities: 0, active_entities: 0 } });

const server = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(BODY) });
  response.end(BODY);
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`${JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 })}\n`);
});
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
