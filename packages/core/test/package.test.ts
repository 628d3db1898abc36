import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

describe('the built package', () => {
  it('is importable by name from a plain ESM script, with its public names', () => {
    expect(
      existsSync(new URL('../dist/index.js', import.meta.url)),
      'dist/ is missing: run `pnpm build` first',
    ).toBe(true);
    const script = `
      import { TencentIm, genUserSig, verifyUserSig, TencentApiError, ValidationError } from '@imbot/core';
      const userSig = genUserSig({ sdkAppId: 1400000000, secretKey: 'k', userId: 'admin', expireSeconds: 60 });
      const { userId } = verifyUserSig({ sdkAppId: 1400000000, secretKey: 'k', userSig });
      console.log(JSON.stringify([typeof TencentIm, userId, new TencentApiError(1, 'x', { endpoint: 'e', retryable: false }).code, ValidationError.name]));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: packageDir,
    }).toString();
    expect(JSON.parse(out)).toEqual(['function', 'admin', 'TENCENT_API', 'ValidationError']);
  });

  it.each([
    ["new TencentIm({ sdkAppId: 1400000000, admin: 'administrator' })", 'options.secretKey'],
    ["new RongCloud({ appKey: 'k' })", 'options.appSecret'],
    [
      "createFetchHandler({ platform: new TencentIm({ sdkAppId: 1, admin: 'a', secretKey: 'k', callbackToken: 't', baseUrl: 'http://127.0.0.1:9' }).platform, bots: [{ userId: 'helper' }], onMessage() {} })",
      'bots',
    ],
  ])(
    "reports an app's bad start-up call at the app's own line, not one inside the bundle: %s",
    (call, field) => {
      const dir = mkdtempSync(join(packageDir, '.start-up-'));
      try {
        const file = join(dir, 'main.mjs');
        writeFileSync(
          file,
          `import { TencentIm, RongCloud, createFetchHandler } from '@imbot/core';\n${call};\n`,
        );
        const { stderr } = spawnSync(process.execPath, [file], { encoding: 'utf8' });
        const [where, source] = stderr.split('\n');
        expect(where).toBe(`file://${file}:2`);
        expect(source).toBe(`${call};`);
        expect(stderr).toContain(field);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it('has a narrow root, a subpath for each cloud and the activity model, and keeps what only sibling packages use out of the root', () => {
    const script = `
      const root = await import('@imbot/core');
      const tencent = await import('@imbot/core/tencent');
      const rongcloud = await import('@imbot/core/rongcloud');
      const activity = await import('@imbot/core/activity');
      const internal = await import('@imbot/core/internal');
      const receive = await import('@imbot/core/receive');
      const contract = ['TencentIm', 'genUserSig', 'verifyUserSig', 'RongCloud', 'signRongCloud', 'StreamSession',
        'ensureBots', 'ImbotError', 'ApiError', 'TencentApiError', 'RongCloudApiError', 'ValidationError',
        'WebhookVerificationError', 'createFetchHandler'];
      console.log(JSON.stringify({
        rootNames: Object.keys(root).length,
        contractMissing: contract.filter((name) => !(name in root)),
        same: root.TencentIm === tencent.TencentIm && root.RongCloud === rongcloud.RongCloud
          && root.TencentApiError === tencent.TencentApiError,
        inRoot: [...Object.keys(internal), ...Object.keys(activity), ...Object.keys(receive)].filter((name) => name in root),
        receive: ['compose', 'stopAnswers', 'typingSignal', 'verifyButtonPresses', 'receiveFetchRequest'].every((name) => name in receive),
        internal: Object.keys(internal).sort(),
        activity: ['AdapterCore', 'ActivityBridge', 'getStreamingResponse', 'conversationReferenceFor'].every((name) => name in activity),
        tencentOnly: 'RongCloud' in tencent, rongOnly: 'TencentIm' in rongcloud,
      }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: packageDir,
    }).toString();
    const result = JSON.parse(out);
    expect(result.rootNames).toBeLessThanOrEqual(45);
    expect(result).toEqual({
      rootNames: result.rootNames,
      contractMissing: [],
      same: true,
      inRoot: [],
      internal: [
        'BUTTON_PRESS_BUSINESS_ID',
        'CARD_BUSINESS_ID',
        'RoundTripFloor',
        'STREAM_IDLE_LIMIT_MS',
        'TYPING_BUSINESS_ID',
        'TYPING_OBJECT_NAME',
        'keepAliveCapacity',
        'mentionTag',
        'parseInput',
        'randomUint32',
        'readNodeRequest',
        'readRongAnswer',
        'richMessageSchema',
        'rongCloudHeaders',
        'rongCloudNonce',
        'utf8Bytes',
      ],
      activity: true,
      receive: true,
      tencentOnly: false,
      rongOnly: false,
    });
  });
});
