import { describe, expect, it } from 'vitest';
import { ImbotError } from '../errors.js';
import { detectTransport } from './runtime.js';
import { type HttpPost, HttpTransport, type Transport, type Undici } from './transport.js';

const node = { process: { versions: { node: '20.19.0' } } };

describe('detectTransport', () => {
  it.each([
    ['Node', node, 'undici'],
    ['Bun (which also offers process.versions.node)', { ...node, Bun: {} }, 'fetch'],
    ['Deno (which also offers process.versions.node)', { ...node, Deno: {} }, 'fetch'],
    [
      'Cloudflare Workers with nodejs_compat',
      { ...node, navigator: { userAgent: 'Cloudflare-Workers' } },
      'fetch',
    ],
    ['a runtime without Node', {}, 'fetch'],
  ] as const)('picks %s → %s', (_name, runtime, expected) => {
    expect(detectTransport(runtime)).toBe(expected);
  });
});

describe('the undici transport where undici lacks Pool.dispatch (a shim such as Bun’s)', () => {
  const shim = async () => ({ Pool: class {} }) as unknown as Undici;
  const request = { origin: 'http://127.0.0.1:1', path: '/', endpoint: '/' } as HttpPost;

  it('hands its calls to the fallback when it was chosen by detection', async () => {
    const fallback: Transport = {
      post: async () => ({ status: 200, body: 'from fetch' }),
      close: async () => {},
    };
    const transport = new HttpTransport({}, { fallback, load: shim });
    await expect(transport.post(request)).resolves.toEqual({ status: 200, body: 'from fetch' });
  });

  it('fails with TRANSPORT_UNAVAILABLE when undici was asked for by name', async () => {
    const error = await new HttpTransport({}, { load: shim }).post(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ImbotError);
    expect(error).toMatchObject({ code: 'TRANSPORT_UNAVAILABLE' });
  });
});
