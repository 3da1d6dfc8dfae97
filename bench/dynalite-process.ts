/**
 * dynalite in its own process for the HTTP bench (forked by http-bench.ts), so the DynamoDB
 * emulator shares no core with the load generator, as redis-server and PostgreSQL do not.
 * Protocol over IPC: child -> `{type:'dynalite', endpoint, tableName}` once the dedup table
 * exists; it stops when the parent disconnects.
 */
import { startDynamoDbServer } from '../test/support/dynamodb-server.js';

const server = await startDynamoDbServer();
process.send?.({ type: 'dynalite', endpoint: server.endpoint, tableName: server.tableName });
process.on('disconnect', () => {
  server.client.destroy();
  void server.stop().then(() => process.exit(0));
});
