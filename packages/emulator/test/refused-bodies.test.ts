import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * In a process of its own (so that nothing else on the heap counts): the built emulator refuses
 * 100 MB of bodies (400 calls of 256 KB with a forged UserSig, the call log keeping its 10,000 most
 * recent calls), and its resident memory, after a full collection, is measured before and after.
 */
const script = `
import { startEmulator } from '@imbot/emulator';
const emulator = await startEmulator();
const body = JSON.stringify({ padding: 'x'.repeat(256 * 1024) });
const call = () => fetch(emulator.url + '/v4/openim_robot_http_svc/get_all_robots?sdkappid=' +
  emulator.tencent.sdkAppId + '&identifier=administrator&usersig=forged&random=1&contenttype=json',
  { method: 'POST', body });
// Resident memory once collected and given back: the least of three looks, 100 ms apart.
const settled = async () => {
  let least = Infinity;
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
    least = Math.min(least, process.memoryUsage().rss);
  }
  return least;
};
for (let i = 0; i < 20; i++) await (await call()).text();
const before = await settled();
const heapBefore = process.memoryUsage().heapUsed;
for (let i = 0; i < 400; i++) await (await call()).text();
const after = await settled();
const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
const refused = emulator.tencent.calls().filter((c) => c.errorCode === 70003).length;
console.log(JSON.stringify({ growthMb: (after - before) / 2 ** 20, heapMb, refused }));
await emulator.close();
`;

describe('the emulator under refused calls', () => {
  it('keeps no refused body beyond its size and a preview: RSS grows under 40 MB after 100 MB of them', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--expose-gc', '--input-type=module', '-e', script],
      { cwd: packageDir, timeout: 120_000 },
    );
    const { growthMb, heapMb, refused } = JSON.parse(stdout) as {
      growthMb: number;
      heapMb: number;
      refused: number;
    };
    expect(refused).toBe(420);
    // What the call log holds of 420 refused bodies: their sizes and previews.
    expect(heapMb).toBeLessThan(5);
    expect(growthMb).toBeLessThan(40);
  }, 150_000);
});
