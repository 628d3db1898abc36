import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

  it('has subpaths for each cloud and keeps what only sibling packages use out of the root entry', () => {
    const script = `
      const root = await import('@imbot/core');
      const tencent = await import('@imbot/core/tencent');
      const rongcloud = await import('@imbot/core/rongcloud');
      const internal = await import('@imbot/core/internal');
      console.log(JSON.stringify({
        same: root.TencentIm === tencent.TencentIm && root.RongCloud === rongcloud.RongCloud,
        inRoot: ['randomUint32', 'readRongAnswer', 'rongCloudHeaders', 'rongCloudNonce', 'utf8Bytes', 'parseInput'].filter((name) => name in root),
        internal: Object.keys(internal).sort(),
        tencentOnly: 'RongCloud' in tencent, rongOnly: 'TencentIm' in rongcloud,
      }));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: packageDir,
    }).toString();
    expect(JSON.parse(out)).toEqual({
      same: true,
      inRoot: [],
      internal: [
        'parseInput',
        'randomUint32',
        'readRongAnswer',
        'rongCloudHeaders',
        'rongCloudNonce',
        'utf8Bytes',
      ],
      tencentOnly: false,
      rongOnly: false,
    });
  });
});
