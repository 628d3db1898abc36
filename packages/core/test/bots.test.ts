import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BotSpec, ensureBots, TencentIm, ValidationError } from '../src/index.js';

const app = { sdkAppId: 1400000000, secretKey: 'bots-test-key', admin: 'administrator' };
let emulator: Emulator;
let im: TencentIm;

beforeAll(async () => {
  emulator = await startEmulator({ tencent: app });
  im = new TencentIm({ ...app, baseUrl: emulator.url });
});
afterAll(async () => {
  await im.close();
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
});

const specs: BotSpec[] = [
  { userId: '@RBT#helper', name: 'Helper', avatarUrl: 'https://example.com/h.png', description: 'Ask me' },
  { userId: '@RBT#writer', name: 'Writer' },
];
const writes = () =>
  emulator.tencent
    .calls()
    .filter((c) => /create_robot|delete_robot|portrait_set/.test(c.api))
    .map((c) => c.api);

describe('ensureBots', () => {
  it('creates the declared bots with their profiles on a fresh app', async () => {
    const report = await ensureBots(im.platform, specs);
    expect(report).toEqual({
      created: ['@RBT#helper', '@RBT#writer'],
      updated: [],
      unchanged: [],
      deleted: [],
    });
    expect(emulator.tencent.robots().map((r) => [r.userId, r.profile])).toEqual([
      ['@RBT#helper', { nick: 'Helper', faceUrl: 'https://example.com/h.png', selfSignature: 'Ask me' }],
      ['@RBT#writer', { nick: 'Writer' }],
    ]);
  });

  it('changes nothing the second time (a restart)', async () => {
    await ensureBots(im.platform, specs);
    const before = writes().length;
    const report = await ensureBots(im.platform, specs);
    expect(report).toEqual({
      created: [],
      updated: [],
      unchanged: ['@RBT#helper', '@RBT#writer'],
      deleted: [],
    });
    expect(writes()).toHaveLength(before);
  });

  it('updates a bot whose declared profile drifted, and only that one', async () => {
    await ensureBots(im.platform, specs);
    const renamed = [{ ...specs[0], name: 'Helpful' } as BotSpec, specs[1] as BotSpec];
    expect(await ensureBots(im.platform, renamed)).toMatchObject({
      updated: ['@RBT#helper'],
      unchanged: ['@RBT#writer'],
    });
    expect(emulator.tencent.robots()[0]?.profile.nick).toBe('Helpful');
  });

  it('refuses 21 bots before any request', async () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ userId: `@RBT#${i}` }));
    await expect(ensureBots(im.platform, many)).rejects.toThrow(ValidationError);
    await expect(ensureBots(im.platform, many)).rejects.toThrow(
      'bots: 21 bots declared; tencent allows 20 per app',
    );
    expect(emulator.tencent.calls()).toHaveLength(0);
  });

  it('refuses a bad spec and a duplicate id before any request, naming the field', async () => {
    await expect(ensureBots(im.platform, [{ userId: 'helper' }])).rejects.toMatchObject({
      field: 'bots[0].userId',
    });
    await expect(
      ensureBots(im.platform, [{ userId: '@RBT#a', name: 'x'.repeat(501) }]),
    ).rejects.toMatchObject({
      field: 'bots[0].name',
      limit: '500 bytes',
    });
    await expect(ensureBots(im.platform, [{ userId: '@RBT#a' }, { userId: '@RBT#a' }])).rejects.toThrow(
      'declared twice',
    );
    expect(emulator.tencent.calls()).toHaveLength(0);
  });

  it('leaves undeclared bots alone unless pruning, then deletes only those', async () => {
    await im.createRobot({ userId: '@RBT#old' });
    expect((await ensureBots(im.platform, specs)).deleted).toEqual([]);
    expect(await im.getAllRobots()).toContain('@RBT#old');
    const report = await ensureBots(im.platform, specs, { prune: true });
    expect(report).toMatchObject({ deleted: ['@RBT#old'], unchanged: ['@RBT#helper', '@RBT#writer'] });
    expect((await im.getAllRobots()).sort()).toEqual(['@RBT#helper', '@RBT#writer']);
  });

  it('says to prune when undeclared bots would push the app past its limit', async () => {
    await Promise.all(Array.from({ length: 19 }, (_, i) => im.createRobot({ userId: `@RBT#old${i}` })));
    await expect(ensureBots(im.platform, specs)).rejects.toThrow(
      /would have 21 bots.*19 of its bots are not declared: pass \{ prune: true \}/,
    );
    expect(await ensureBots(im.platform, specs, { prune: true })).toMatchObject({
      created: ['@RBT#helper', '@RBT#writer'],
    });
  });

  it('with dryRun reports the plan and changes nothing', async () => {
    const report = await ensureBots(im.platform, specs, { dryRun: true });
    expect(report.created).toEqual(['@RBT#helper', '@RBT#writer']);
    expect(emulator.tencent.robots()).toEqual([]);
  });
});
