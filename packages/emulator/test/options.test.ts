import { ValidationError } from '@imbot/core';
import { describe, expect, it } from 'vitest';
import { startEmulator } from '../src/index.js';

describe('startEmulator options', () => {
  it.each([
    [{ port: 'abc' }, 'startEmulator.port'],
    [{ tencent: { sdkAppId: 'x', secretKey: 'k', admin: 'a' } }, 'startEmulator.tencent.sdkAppId'],
    [{ faults: { errorRate: 2 } }, 'startEmulator.faults.errorRate'],
  ])('refuses %j with a ValidationError naming the option, listening nowhere', async (options, field) => {
    const failure = await startEmulator(options as never).then(
      (emulator) => emulator.close().then(() => undefined),
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(ValidationError);
    expect(failure).toMatchObject({ code: 'VALIDATION', field });
  });

  it('starts with no options at all', async () => {
    const emulator = await startEmulator();
    expect(emulator.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    await emulator.close();
  });
});
