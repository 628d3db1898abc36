import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { handleControl } from './control.js';
import { type FaultConfig, Faults } from './faults.js';
import { sendJson } from './http.js';
import { TencentEmulator, type TencentEmulatorOptions } from './tencent/emulator.js';

export interface EmulatorOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Address to listen on. Default 127.0.0.1: the emulator is for this machine only. */
  host?: string;
  /** The emulated Tencent Cloud Chat app. */
  tencent: TencentEmulatorOptions;
  /** Random faults from the start. */
  faults?: FaultConfig;
  /** Seed of the fault generator, so that a failing run can be replayed. */
  seed?: number;
}

export interface Emulator {
  /** `http://127.0.0.1:<port>`: give it to a client as `baseUrl`. */
  url: string;
  tencent: TencentEmulator;
  faults: Faults;
  /** Forgets all state and faults, as if freshly started. */
  reset(): void;
  close(): Promise<void>;
}

const options = z.object({
  port: z.number().int().min(0).max(65535).optional(),
  host: z.string().min(1).optional(),
  tencent: z.unknown(),
  faults: z.unknown().optional(),
  seed: z.number().int().optional(),
});

/**
 * Starts a local, in-process fake of the clouds on loopback: the Tencent Cloud Chat REST API under
 * `/v4/`, and a JSON control API under `/_emulator/`.
 *
 * @example
 * const emulator = await startEmulator({ tencent: { sdkAppId: 1400000000, secretKey: 'dev', admin: 'administrator' } });
 * const im = new TencentIm({ sdkAppId: 1400000000, admin: 'administrator', secretKey: 'dev', baseUrl: emulator.url });
 */
export async function startEmulator(input: EmulatorOptions): Promise<Emulator> {
  options.parse(input);
  const faults = new Faults(input.faults, input.seed);
  const tencent = new TencentEmulator(input.tencent, faults);
  const reset = () => {
    tencent.reset();
    faults.clear();
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://emulator.local');
    if (url.pathname.startsWith('/v4/')) {
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'the REST API takes POST only' });
      return tencent.handle(req, res, url);
    }
    if (url.pathname.startsWith('/_emulator/'))
      return handleControl(req, res, url, { tencent, faults, reset });
    sendJson(res, 404, {
      error: `nothing at ${url.pathname}; the REST API is under /v4/, the control API under /_emulator/`,
    });
  };

  const server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { error: (error as Error).message });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(input.port ?? 0, input.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    tencent,
    faults,
    reset,
    close: () =>
      new Promise<void>((resolve) => {
        tencent.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
