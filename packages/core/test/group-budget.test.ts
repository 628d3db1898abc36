import { busiestWindow, type CallRecord, type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BudgetCharge,
  type RateLimiter,
  RongCloud,
  type StreamSession,
  TencentIm,
  ValidationError,
} from '../src/index.js';

/**
 * The clouds' per-group limits, kept by the client over real HTTP: many answers streaming into one
 * group at once draw on the group's budget as well as their API's, so the cloud never counts more
 * than the group allows, and every answer still arrives whole. Judged from the emulator's call log
 * (each call's arrival time), never from refusals.
 */

const tencentApp = { sdkAppId: 1400000351, secretKey: 'budget-secret', admin: 'administrator' };
const rongApp = { appKey: 'budget-key', appSecret: 'budget-secret' };
const ROBOT = '@RBT#budget';
const BOT = 'bot-budget';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ tencent: { ...tencentApp, robots: [ROBOT] }, rongcloud: rongApp });
});
afterAll(async () => {
  await emulator.close();
});

/** Writes `pieces` to `session` a few milliseconds apart, as a model's tokens come, then ends it. */
async function answer(session: StreamSession, pieces: readonly string[]): Promise<unknown> {
  for (const piece of pieces) {
    session.write(piece);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return session.end();
}

const piecesOf = (label: string) => Array.from({ length: 40 }, (_, i) => `${label} piece ${i}. `);
const refused = (calls: readonly CallRecord[]) =>
  calls.filter((c) => c.errorCode !== undefined && c.errorCode !== 0);

describe('Tencent: 40 messages a second into one group', () => {
  it('keeps 30 answers streaming into one group within 40 calls in any second, each answer exact and finished', async () => {
    emulator.reset();
    emulator.tencent.createGroup({ groupId: 'crowd', type: 'Public', members: [ROBOT] });
    const im = new TencentIm({ ...tencentApp, baseUrl: emulator.url });
    try {
      const labels = Array.from({ length: 30 }, (_, i) => `answer ${i}`);
      const results = await Promise.all(
        labels.map((label) =>
          answer(im.openStream({ from: ROBOT, groupId: 'crowd' }, { minIntervalMs: 0 }), piecesOf(label)),
        ),
      );
      expect(results).toEqual(labels.map(() => expect.objectContaining({ reason: 'completed' })));
      const calls = emulator.tencent.calls();
      const intoGroup = calls.filter(
        (c) => (c.body as { GroupId?: string } | undefined)?.GroupId === 'crowd',
      );
      expect(refused(calls)).toEqual([]);
      expect(intoGroup.length).toBeGreaterThan(40); // enough calls that the limit had work to do
      expect(
        busiestWindow(
          intoGroup.map((c) => ({ time: c.time, units: 1 })),
          1000,
        ),
      ).toBeLessThanOrEqual(40);
      const shown = emulator.tencent.groupConversation('crowd');
      expect(shown.map((m) => m.text).sort()).toEqual(labels.map((l) => piecesOf(l).join('')).sort());
      expect(shown.every((m) => m.state === 'finished')).toBe(true);
    } finally {
      await im.close();
    }
  }, 60_000);

  it('takes the app plan by row name, and refuses an unknown row or a bad limit naming it', () => {
    const base = { ...tencentApp, baseUrl: emulator.url };
    expect(() => new TencentIm({ ...base, limits: { 'group-messages': 50 } })).not.toThrow();
    expect(() => new TencentIm({ ...base, limits: { 'group-message': 50 } })).toThrow(ValidationError);
    expect(() => new TencentIm({ ...base, limits: { 'group-message': 50 } })).toThrow(/"group-message"/);
    expect(() => new TencentIm({ ...base, limits: { 'group-messages': 0 } })).toThrow(/group-messages/);
  });
});

describe('RongCloud: 20 group messages a second for the app, counted per target group', () => {
  it('keeps 40 answers over 20 groups within 20 group messages in any second, each answer exact and finished', async () => {
    emulator.reset();
    const rong = new RongCloud({ ...rongApp, baseUrl: emulator.url });
    try {
      const jobs = Array.from({ length: 40 }, (_, i) => ({ groupId: `g${i % 20}`, label: `reply ${i}` }));
      const results = await Promise.all(
        jobs.map(({ groupId, label }) =>
          answer(rong.openStream({ from: BOT, groupId }, { minIntervalMs: 0 }), piecesOf(label).slice(0, 10)),
        ),
      );
      expect(results).toEqual(jobs.map(() => expect.objectContaining({ reason: 'completed' })));
      const calls = emulator.rongcloud.calls();
      expect(calls.filter((c) => c.status !== 200)).toEqual([]);
      const groupUnits = calls
        .filter((c) => c.api.includes('/group/'))
        .map((c) => {
          const body = c.body as { toGroupId?: string | string[] };
          const groups = Array.isArray(body.toGroupId) ? body.toGroupId.length : 1;
          return { time: c.time, units: groups };
        });
      expect(groupUnits.length).toBeGreaterThan(20);
      expect(busiestWindow(groupUnits, 1000)).toBeLessThanOrEqual(20);
      for (let g = 0; g < 20; g++) {
        const shown = emulator.rongcloud.groupConversation(`g${g}`);
        const expected = jobs
          .filter((j) => j.groupId === `g${g}`)
          .map((j) => piecesOf(j.label).slice(0, 10).join(''));
        expect(shown.map((m) => m.text).sort()).toEqual(expected.sort());
        expect(shown.every((m) => m.state === 'finished')).toBe(true);
      }
    } finally {
      await rong.close();
    }
  }, 60_000);

  it('charges a private message once per recipient, against the plan, in one step with nothing else', async () => {
    emulator.reset();
    const asked: (readonly BudgetCharge[])[] = [];
    const rateLimit: RateLimiter = {
      acquire: async () => ({ release() {} }),
      acquireAll: async (charges) => {
        asked.push(charges);
        return { release() {} };
      },
    };
    const rong = new RongCloud({
      ...rongApp,
      baseUrl: emulator.url,
      rateLimit,
      limits: { 'private/publish': 4 },
    });
    try {
      await rong.call('/message/private/publish.json', {
        form: {
          fromUserId: BOT,
          toUserId: ['a', 'b', 'c'],
          objectName: 'RC:TxtMsg',
          content: '{"content":"hi"}',
        },
      });
      await rong.call('/message/group/publish.json', {
        form: {
          fromUserId: BOT,
          toGroupId: ['g1', 'g2'],
          objectName: 'RC:TxtMsg',
          content: '{"content":"hi"}',
        },
      });
    } finally {
      await rong.close();
    }
    const app = `rongcloud:${rongApp.appKey}`;
    expect(asked).toEqual([
      [{ key: `${app}/private/publish`, row: 'private/publish', units: 3, limit: 4, windowMs: 60_000 }],
      [{ key: `${app}/group/publish`, row: 'group/publish', units: 2, limit: 20, windowMs: 1000 }],
    ]);
  });
});
