import { describe, expect, it } from 'vitest';
import { compose, type Middleware, type ReceiveContext } from './middleware.js';

const context = {} as ReceiveContext;

describe('compose', () => {
  it('runs middleware in order around the last step, each choosing whether to go on', async () => {
    const seen: string[] = [];
    const step =
      (name: string): Middleware =>
      async (_context, next) => {
        seen.push(`${name} in`);
        await next();
        seen.push(`${name} out`);
      };
    await compose([step('a'), step('b')], async () => void seen.push('last'))(context);
    expect(seen).toEqual(['a in', 'b in', 'last', 'b out', 'a out']);

    seen.length = 0;
    const drop: Middleware = () => undefined;
    await compose([step('a'), drop, step('b')], async () => void seen.push('last'))(context);
    expect(seen).toEqual(['a in', 'a out']);
  });

  it('rejects a middleware that calls next() twice, with a typed error', async () => {
    const twice: Middleware = async (_context, next) => {
      await next();
      await next();
    };
    await expect(compose([twice], async () => undefined)(context)).rejects.toMatchObject({
      code: 'MIDDLEWARE_MISUSED',
    });
  });

  it('passes a failure of the last step or of a middleware up to the caller', async () => {
    const failing: Middleware = () => {
      throw new Error('boom');
    };
    await expect(compose([failing], async () => undefined)(context)).rejects.toThrow('boom');
    await expect(
      compose([], async () => {
        throw new Error('last');
      })(context),
    ).rejects.toThrow('last');
  });
});
