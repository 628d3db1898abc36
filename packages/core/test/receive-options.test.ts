import { type Emulator, startEmulator } from '@imbot/emulator';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createFetchHandler, RongCloud, TencentIm, WebhookPipeline } from '../src/index.js';

const TENCENT = { sdkAppId: 1400000000, secretKey: 'receive-options-key', admin: 'administrator' };
const RONG = { appKey: 'receive-options-app', appSecret: 'receive-options-secret' };
const BOT = '@RBT#helper';

let emulator: Emulator;
let im: TencentIm;
let unsignedIm: TencentIm;
let rong: RongCloud;

beforeAll(async () => {
  emulator = await startEmulator({ tencent: TENCENT, rongcloud: RONG });
  im = new TencentIm({ ...TENCENT, baseUrl: emulator.url, callbackToken: 'token' });
  unsignedIm = new TencentIm({ ...TENCENT, baseUrl: emulator.url });
  rong = new RongCloud({ ...RONG, baseUrl: emulator.url });
});
afterAll(async () => {
  for (const client of [im, unsignedIm, rong]) await client.close();
  await emulator.close();
});

const validation = (field: string) =>
  expect.objectContaining({ name: 'ValidationError', code: 'VALIDATION', field });
const onMessage = () => undefined;

describe('the receivers refuse bad options at once, naming them, and send nothing', () => {
  const base = () => ({ platform: im.platform, bots: [{ userId: BOT }], onMessage });
  it.each([
    ['no options', () => undefined, 'options'],
    ['no platform', () => ({ ...base(), platform: undefined }), 'options.platform'],
    ['platform: {}', () => ({ ...base(), platform: {} }), 'options.platform'],
    ['a client for a platform', () => ({ ...base(), platform: im }), 'options.platform'],
    ['no onMessage', () => ({ ...base(), onMessage: undefined }), 'options.onMessage'],
    ['bots: []', () => ({ ...base(), bots: [] }), 'options.bots'],
    ['no bots', () => ({ ...base(), bots: undefined }), 'options.bots'],
    ['a Tencent bot id without @RBT#', () => ({ ...base(), bots: [{ userId: 'helper' }] }), 'bots[0].userId'],
    [
      'webhook.path without a slash',
      () => ({ ...base(), webhook: { path: 'hook' } }),
      'options.webhook.path',
    ],
    ['an unknown webhook option', () => ({ ...base(), webhook: { tokn: 'x' } }), 'options.webhook'],
    [
      'maxBodyBytes: -1',
      () => ({ ...base(), webhook: { maxBodyBytes: -1 } }),
      'options.webhook.maxBodyBytes',
    ],
    ['concurrency: "parallel"', () => ({ ...base(), concurrency: 'parallel' }), 'options.concurrency'],
    ['seen: {}', () => ({ ...base(), seen: {} }), 'options.seen'],
    ['healthPath without a slash', () => ({ ...base(), healthPath: 'health' }), 'options.healthPath'],
    ['waitUntil: "later"', () => ({ ...base(), waitUntil: 'later' }), 'options.waitUntil'],
  ])('createFetchHandler with %s', (_, options, field) => {
    expect(() => createFetchHandler(options() as never)).toThrow(validation(field));
    expect(emulator.tencent.calls()).toEqual([]);
  });

  it('refuses to start on unsigned Tencent callbacks unless told to, then warns once', () => {
    const options = { platform: unsignedIm.platform, bots: [BOT], onMessage };
    expect(() => new WebhookPipeline(options)).toThrow(validation('callbackToken'));
    const warned = vi.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
    new WebhookPipeline({ ...options, unsignedWebhooks: true });
    new WebhookPipeline({ ...options, unsignedWebhooks: true });
    expect(warned).toHaveBeenCalledTimes(1);
    expect(warned.mock.calls[0]?.[1]).toMatchObject({ code: 'IMBOT_UNSIGNED_WEBHOOKS' });
    warned.mockRestore();
    // webhook.token, the older way to give the token, still counts as signed.
    expect(() => new WebhookPipeline({ ...options, webhook: { token: 'token' } })).not.toThrow();
    // RongCloud always signs with the App Secret.
    expect(() => new WebhookPipeline({ platform: rong.platform, onMessage })).not.toThrow();
    expect(emulator.tencent.calls()).toEqual([]);
  });

  it('TencentIm refuses an empty callbackToken', () => {
    expect(() => new TencentIm({ ...TENCENT, baseUrl: emulator.url, callbackToken: '' })).toThrow(
      validation('options.callbackToken'),
    );
  });
});
