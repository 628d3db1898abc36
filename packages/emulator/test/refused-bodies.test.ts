import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * The built emulator alone in a process of its own, measured on request: its resident memory once
 * collected and given back (the least of three looks, 100 ms apart), its heap, and the calls it
 * refused. The traffic comes from the test's process, so the sender's memory is not counted.
 */
const script = `
import { createInterface } from 'node:readline';
import { startEmulator } from '@imbot/emulator';
const emulator = await startEmulator();
const settled = async () => {
  let least = Infinity;
  for (let i = 0; i < 3; i++) {
    globalThis.gc();
    await new Promise((resolve) => setTimeout(resolve, 100));
    least = Math.min(least, process.memoryUsage().rss);
  }
  return least;
};
console.log(JSON.stringify({ url: emulator.url, sdkAppId: emulator.tencent.sdkAppId }));
for await (const line of createInterface({ input: process.stdin })) {
  if (line !== 'measure') break;
  const rss = await settled();
  const refused = emulator.tencent.calls().filter((c) => c.errorCode === 70003).length;
  console.log(JSON.stringify({ rss, heap: process.memoryUsage().heapUsed, refused }));
}
await emulator.close();
`;

interface Measure {
  rss: number;
  heap: number;
  refused: number;
}

describe('the emulator under refused calls', () => {
  it('keeps no refused body beyond its size and a preview: RSS grows under 40 MB after 100 MB of them', async () => {
    const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
      cwd: packageDir,
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async <T>() => JSON.parse((await lines.next()).value as string) as T;
    try {
      const { url, sdkAppId } = await next<{ url: string; sdkAppId: number }>();
      const body = JSON.stringify({ padding: 'x'.repeat(256 * 1024) });
      const refusedCall = async () => {
        const query = `sdkappid=${sdkAppId}&identifier=administrator&usersig=forged&random=1&contenttype=json`;
        const answer = await fetch(`${url}/v4/openim_robot_http_svc/get_all_robots?${query}`, {
          method: 'POST',
          body,
        });
        await answer.text();
      };
      const measure = () => {
        child.stdin.write('measure\n');
        return next<Measure>();
      };
      for (let i = 0; i < 20; i++) await refusedCall();
      const before = await measure();
      // 400 bodies of 256 KB: 100 MB refused.
      for (let i = 0; i < 400; i++) await refusedCall();
      const after = await measure();
      expect(after.refused).toBe(420);
      // What the call log holds of 400 more refused bodies: their sizes and previews.
      expect((after.heap - before.heap) / 2 ** 20).toBeLessThan(5);
      expect((after.rss - before.rss) / 2 ** 20).toBeLessThan(40);
    } finally {
      child.stdin.end();
      child.kill();
    }
  }, 150_000);
});
