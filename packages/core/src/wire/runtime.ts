import { FetchTransport } from './fetch-transport.js';
import { HttpTransport, type HttpTransportOptions, type Transport } from './transport.js';

/**
 * How a client sends its calls: `'undici'`, undici's `Pool.dispatch` (Node: the least overhead per
 * call), or `'fetch'`, the runtime's own `fetch` (Bun, Deno, Cloudflare Workers, anything else).
 */
export type TransportKind = 'undici' | 'fetch';

/** What `detectTransport` looks at: the globals a runtime announces itself by. */
export interface RuntimeGlobals {
  Bun?: unknown;
  Deno?: unknown;
  navigator?: { userAgent?: unknown } | undefined;
  process?: { versions?: { node?: unknown } | undefined } | undefined;
}

/**
 * The transport this runtime should use: `'fetch'` on Bun, Deno and Cloudflare Workers (each also
 * offers a `process.versions.node` for compatibility, so they are named first) and wherever there is
 * no Node; `'undici'` on Node.
 */
export function detectTransport(runtime: RuntimeGlobals = globalThis as RuntimeGlobals): TransportKind {
  if (runtime.Bun !== undefined || runtime.Deno !== undefined) return 'fetch';
  if (runtime.navigator?.userAgent === 'Cloudflare-Workers') return 'fetch';
  return typeof runtime.process?.versions?.node === 'string' ? 'undici' : 'fetch';
}

/**
 * The transport of a client: the one asked for, or the one `detectTransport` picks. A detected
 * undici transport falls back to `fetch` when undici turns out to lack `Pool.dispatch` (a shim);
 * one asked for by name does not, and its calls fail with `TRANSPORT_UNAVAILABLE` instead.
 */
export function createTransport(
  kind: TransportKind | undefined,
  options: HttpTransportOptions = {},
): Transport {
  const chosen = kind ?? detectTransport();
  if (chosen === 'fetch') return new FetchTransport(options);
  return new HttpTransport(options, kind ? {} : { fallback: new FetchTransport(options) });
}
