import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseInput } from '@imbot/core/internal';
import * as z from 'zod';
import { clockOf } from './clock.js';
import { serveConsole } from './console.js';
import { handleControl } from './control.js';
import { streamEvents } from './events.js';
import { type FaultConfig, Faults, faultConfig } from './faults.js';
import { sendJson } from './http.js';
import { RongCloudEmulator, type RongCloudEmulatorOptions, rongCloudOptions } from './rongcloud/emulator.js';
import { TencentEmulator, type TencentEmulatorOptions, tencentOptions } from './tencent/emulator.js';

export interface EmulatorOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1: the emulator is for this machine only. */
  host?: string;
  /** The emulated Tencent Cloud Chat app; a default one when left out. */
  tencent?: TencentEmulatorOptions;
  /** The emulated RongCloud app; a default one when left out. */
  rongcloud?: RongCloudEmulatorOptions;
  /** Random faults from the start. */
  faults?: FaultConfig;
  /** Seed of the fault generator, so that a failing run can be replayed. */
  seed?: number;
  /**
   * The emulator's clock, in milliseconds since the epoch: message and call times, rate windows and
   * when an idle stream is abandoned all follow it. Default: the real clock. A test passes its own
   * and moves it on instead of sleeping.
   */
  now?: () => number;
}

export interface Emulator {
  /** `http://127.0.0.1:<port>`: give it to a client as `baseUrl`. */
  url: string;
  /** Tencent Cloud Chat; its primary origin is `url`, its backup `tencent.backupUrl`. */
  tencent: TencentEmulator & { backupUrl: string };
  /** RongCloud; its primary origin is `url`, its backup `rongcloud.backupUrl`. */
  rongcloud: RongCloudEmulator & { backupUrl: string };
  faults: Faults;
  /** Forgets all state and faults, as if freshly started. */
  reset(): void;
  close(): Promise<void>;
}

const defaultTencent: TencentEmulatorOptions = {
  sdkAppId: 1400000000,
  secretKey: 'imbot-emulator-key',
  admin: 'administrator',
};
const defaultRongCloud: RongCloudEmulatorOptions = { appKey: 'imbot-app-key', appSecret: 'imbot-app-secret' };

/** Starts an HTTP server on `host:port` whose handler errors become 500s. */
async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  port: number,
  host: string,
): Promise<Server> {
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: (error as Error).message });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

function urlOf(server: Server): string {
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

function stop(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

const options = z.object({
  port: z.number().int().min(0).max(65535).optional(),
  host: z.string().min(1).optional(),
  tencent: tencentOptions.optional(),
  rongcloud: rongCloudOptions.optional(),
  faults: faultConfig.optional(),
  seed: z.number().int().optional(),
  now: z
    .custom<() => number>((value) => typeof value === 'function', 'must be a function returning milliseconds')
    .optional(),
});

/**
 * A request's URL. Its target is always taken as a path: `//` or `//host/x` is a path here, not a
 * protocol-relative URL naming another host (which would make the URL unparsable).
 */
function requestUrl(req: IncomingMessage): URL {
  return new URL(`http://emulator.local${req.url?.startsWith('/') ? req.url : `/${req.url ?? ''}`}`);
}

/**
 * Starts a local, in-process fake of the clouds on loopback: the Tencent Cloud Chat REST API under
 * `/v4/`, RongCloud's under `/v3/`, `/message/`, `/statusmessage/` and `/group/` (with a backup origin on a second port), and a
 * JSON control API under `/_emulator/`.
 *
 * @example
 * const emulator = await startEmulator({ tencent: { sdkAppId: 1400000000, secretKey: 'dev', admin: 'administrator' } });
 * const im = new TencentIm({ sdkAppId: 1400000000, admin: 'administrator', secretKey: 'dev', baseUrl: emulator.url });
 */
export async function startEmulator(input: EmulatorOptions = {}): Promise<Emulator> {
  parseInput(options, input, 'startEmulator');
  const faults = new Faults(input.faults, input.seed);
  const clock = clockOf(input.now);
  const tencent = new TencentEmulator(input.tencent ?? defaultTencent, faults, clock);
  const rongcloud = new RongCloudEmulator(input.rongcloud ?? defaultRongCloud, faults, clock);
  const reset = () => {
    tencent.reset();
    rongcloud.reset();
    faults.clear();
  };
  const isRongCloud = (path: string) => /^\/(v3|message|statusmessage|group)\//.test(path);

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = requestUrl(req);
    if (url.pathname.startsWith('/v4/')) {
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'the REST API takes POST only' });
      return tencent.handle(req, res, url);
    }
    if (isRongCloud(url.pathname)) return rongcloud.handle(req, res, url, 'primary');
    if (url.pathname === '/_emulator/events') return streamEvents(req, res, { tencent, rongcloud });
    if (url.pathname.startsWith('/_emulator/')) {
      return handleControl(req, res, url, { tencent, rongcloud, faults, reset });
    }
    if (req.method === 'GET' && (await serveConsole(url.pathname, res))) return;
    sendJson(res, 404, {
      error: `nothing at ${url.pathname}; Tencent's API is under /v4/, RongCloud's under /v3/, /message/, /statusmessage/ and /group/, the control API under /_emulator/`,
    });
  };

  const backupRoute = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = requestUrl(req);
    if (url.pathname.startsWith('/v4/') && req.method === 'POST')
      return tencent.handle(req, res, url, 'backup');
    if (isRongCloud(url.pathname)) return rongcloud.handle(req, res, url, 'backup');
    sendJson(res, 404, { error: 'the backup origin serves the clouds’ REST APIs only' });
  };
  const host = input.host ?? '127.0.0.1';
  const server = await listen(route, input.port ?? 0, host);
  const backup = await listen(backupRoute, 0, host);
  return {
    url: urlOf(server),
    tencent: Object.assign(tencent, { backupUrl: urlOf(backup) }),
    rongcloud: Object.assign(rongcloud, { backupUrl: urlOf(backup) }),
    faults,
    reset,
    close: async () => {
      tencent.close();
      rongcloud.close();
      await Promise.all([server, backup].map(stop));
    },
  };
}
