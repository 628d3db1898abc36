import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

/**
 * A real Redis for a test, from Debian's `redis-server`, on loopback ports, with nothing saved to
 * disk: one server, or (with `IMBOT_REDIS_CLUSTER=1`, the `redis-cluster` test project) a
 * three-node Redis Cluster the test starts itself and joins with `redis-cli --cluster create`.
 */
export interface RedisServer {
  /** What an imbot Redis class takes to reach it: `{ url }`, or a cluster's `{ nodes }`. */
  connection: { url: string } | { nodes: string[] };
  /** The same as one command-line argument, for child processes (see `connectionOf`). */
  address: string;
  /**
   * Makes Redis go away: the server is killed (SIGKILL); in a cluster one node is, and this waits
   * until the others refuse commands for the slots it held (the cluster is down, as Redis is).
   */
  stop(): Promise<void>;
  /** Brings it back on the same port, empty; in a cluster the node rejoins with its slots. */
  start(): Promise<void>;
}

/** The connection options a child process rebuilds from `RedisServer.address`. */
export function connectionOf(address: string): { url: string } | { nodes: string[] } {
  return address.includes(',') ? { nodes: address.split(',') } : { url: address };
}

const run = promisify(execFile);

async function isFree(port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A free port; for a cluster node its bus port (port + 10 000) must be free too. */
export async function freePort(cluster: boolean): Promise<number> {
  for (;;) {
    const port = cluster ? 20_000 + Math.floor(Math.random() * 30_000) : 0;
    if (!cluster) {
      const server = createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port: chosen } = server.address() as { port: number };
      await new Promise((resolve) => server.close(resolve));
      return chosen;
    }
    if ((await isFree(port)) && (await isFree(port + 10_000))) return port;
  }
}

/** One `redis-server` process that can be killed and started again with the same arguments. */
export function serverProcess(args: string[]): { start(): Promise<void>; stop(): Promise<void> } {
  let child: ChildProcess | undefined;
  return {
    async start() {
      const started = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
      child = started;
      await new Promise<void>((resolve, reject) => {
        let out = '';
        started.stdout?.on('data', (data: Buffer) => {
          out += data.toString();
          if (out.includes('Ready to accept connections')) resolve();
        });
        started.once('exit', (code) =>
          reject(new Error(`redis-server exited with ${code}: ${out.slice(-500)}`)),
        );
        started.once('error', reject);
      });
      started.stdout?.resume();
    },
    async stop() {
      const running = child;
      child = undefined;
      if (!running || running.exitCode !== null) return;
      running.kill('SIGKILL');
      await once(running, 'exit');
    },
  };
}

export const serverArgs = (port: number) => [
  '--port',
  String(port),
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'no',
];

/** Waits until every node in `ports` reports `cluster_state:<state>`. */
async function clusterState(ports: number[], state: 'ok' | 'fail'): Promise<void> {
  for (let tries = 0; tries < 300; tries++) {
    const answers = await Promise.all(
      ports.map((port) =>
        run('redis-cli', ['-p', String(port), 'cluster', 'info']).then(
          ({ stdout }) => stdout,
          () => '',
        ),
      ),
    );
    if (answers.every((info) => info.includes(`cluster_state:${state}`))) return;
    await sleep(100);
  }
  throw new Error(`the test cluster did not reach cluster_state:${state}`);
}

async function startCluster(): Promise<RedisServer & { shutdown(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'imbot-cluster-'));
  const ports: number[] = [];
  while (ports.length < 3) {
    const port = await freePort(true);
    if (!ports.includes(port)) ports.push(port);
  }
  const nodes = ports.map((port) =>
    serverProcess([
      ...serverArgs(port),
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout',
      '1000',
    ]),
  );
  await Promise.all(nodes.map((node) => node.start()));
  const hosts = ports.map((port) => `127.0.0.1:${port}`);
  await run('redis-cli', ['--cluster', 'create', ...hosts, '--cluster-replicas', '0', '--cluster-yes']);
  await clusterState(ports, 'ok');
  const urls = hosts.map((host) => `redis://${host}`);
  const restarted = nodes[1] as (typeof nodes)[number];
  const others = [ports[0], ports[2]] as number[];
  return {
    connection: { nodes: urls },
    address: urls.join(','),
    stop: async () => {
      await restarted.stop();
      await clusterState(others, 'fail');
    },
    start: async () => {
      await restarted.start();
      await clusterState(ports, 'ok');
    },
    shutdown: async () => {
      await Promise.all(nodes.map((node) => node.stop()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a Redis (or, in the `redis-cluster` project, a cluster) for a test; stop it in `afterAll`. */
export async function startRedis(): Promise<RedisServer & { shutdown(): Promise<void> }> {
  if (process.env.IMBOT_REDIS_CLUSTER === '1') return startCluster();
  const port = await freePort(false);
  const server = serverProcess(serverArgs(port));
  await server.start();
  const url = `redis://127.0.0.1:${port}`;
  return { connection: { url }, address: url, start: server.start, stop: server.stop, shutdown: server.stop };
}
