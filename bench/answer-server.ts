/**
 * The far side of `bench/client.ts`'s overhead comparison, in a process of its own: a plain HTTP
 * server that answers every POST at once with Tencent's success envelope and one robot, after
 * reading the body. Nothing is checked, so what the client pays is all that is measured. Prints
 * `listening on <url>` once it serves.
 *
 *   node --conditions=@imbot/source --import tsx bench/answer-server.ts
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const ANSWER = '{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"Robot_Account":["@RBT#bench"]}';

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ANSWER) });
    res.end(ANSWER);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`);
});
