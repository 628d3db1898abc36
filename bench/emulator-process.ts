/**
 * The emulator in a process of its own, as the benchmarks need it: its CPU is not the client's, so
 * a client that blocks its event loop is seen as slow rather than hidden by a shared one.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';

/** A message as the emulator's event stream reports it, each time it is created or changed. */
export interface MessageEvent {
  cloud: string;
  message: { from: string; to: string; msgKey: string; text: string; state: string };
}

export interface EmulatorProcess {
  url: string;
  /** Forgets every message, call and counter. */
  reset(): Promise<void>;
  /** Sets the random faults and the latency model (`PUT /_emulator/faults`). */
  configureFaults(config: Record<string, unknown>): Promise<void>;
  /** The cloud's own count of accepted and rejected calls of each API. */
  rate(
    cloud: 'tencent' | 'rongcloud',
  ): Promise<
    Record<
      string,
      { accepted: number; rejected: number; busiestWindow: number; firstAt?: number; lastAt?: number }
    >
  >;
  /** Calls `onEvent` for every message created or changed, until the returned function is called. */
  follow(onEvent: (event: MessageEvent, at: number) => void): Promise<() => void>;
  close(): Promise<void>;
}

const root = fileURLToPath(new URL('..', import.meta.url));

async function control<T>(
  url: string,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
): Promise<T> {
  const answer = await request(`${url}/_emulator/${path}`, {
    method,
    ...(body === undefined
      ? {}
      : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
  });
  return (await answer.body.json()) as T;
}

/**
 * Runs a TypeScript entry of the workspace from its sources in a process of its own (with `nodeFlags`
 * such as `--expose-gc`), resolving once it prints `listening on <url>`.
 */
export async function startListening(
  entry: string,
  args: string[],
  nodeFlags: string[] = [],
): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [...nodeFlags, '--conditions=@imbot/source', '--import', 'tsx', entry, ...args],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (data: Buffer) => {
      out += data.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`${entry} exited with ${code}`)));
  });
  child.stdout?.resume();
  return { url, child };
}

/** Starts `imbot-emulator` from its sources on a free port, with `robots` existing from the start. */
export async function startEmulatorProcess(options: {
  robots: string[];
  secretKey: string;
  /** Calls of one API the cloud allows per second (default: the cloud's own). */
  rateLimit?: number;
}): Promise<EmulatorProcess> {
  const { url, child } = await startListening('packages/emulator/src/bin.ts', [
    '--port',
    '0',
    '--secret-key',
    options.secretKey,
    '--robots',
    options.robots.join(','),
    ...(options.rateLimit === undefined ? [] : ['--rate-limit', String(options.rateLimit)]),
  ]);
  return {
    url,
    reset: async () => {
      await control(url, 'POST', 'reset');
    },
    configureFaults: async (config) => {
      await control(url, 'PUT', 'faults', config);
    },
    rate: (cloud) => control(url, 'GET', `${cloud}/rate`),
    follow: async (onEvent) => {
      const controller = new AbortController();
      const answer = await request(`${url}/_emulator/events`, { signal: controller.signal });
      // Frames are cut out of the bytes and only then decoded, so a character split across two
      // chunks is never decoded in halves.
      let buffer: Buffer = Buffer.alloc(0);
      answer.body.on('data', (data: Buffer) => {
        const at = performance.now();
        buffer = buffer.length === 0 ? data : Buffer.concat([buffer, data]);
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const frame = buffer.subarray(0, end).toString('utf8');
          buffer = buffer.subarray(end + 2);
          end = buffer.indexOf('\n\n');
          if (!frame.startsWith('event: message\n')) continue;
          onEvent(JSON.parse(frame.slice(frame.indexOf('data: ') + 6)) as MessageEvent, at);
        }
      });
      answer.body.on('error', () => undefined);
      return () => controller.abort();
    },
    close: async () => {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}
