import * as z from 'zod';
import { transportOptionsShape } from '../client/options.js';
import { secretOption } from '../secret.js';
import { maxChars } from '../validation.js';
import { rongCloudRegions } from './regions.js';

/** Bot user ids: at most 64 characters. */
export const BOT_ID_MAX_CHARS = 64;
/** Bots per app. */
export const BOTS_PER_APP = 10;
/** Bots per `get.json` call. */
export const BOTS_PER_GET = 20;
/** One message, or one streaming request: 128 KB. */
export const RONG_MESSAGE_MAX_BYTES = 128 * 1024;

export const botId = maxChars(BOT_ID_MAX_CHARS).min(1, 'must not be empty');
export const rongUserId = maxChars(BOT_ID_MAX_CHARS).min(1, 'must not be empty');

const metadata = z
  .record(z.string().min(1).max(32), z.string().min(1).max(128))
  .refine((m) => Object.keys(m).length <= 16, { message: 'at most 16 pairs', params: { limit: '16 pairs' } });

export const integration = z.looseObject({
  type: z.string().min(1),
  enabled: z.boolean().optional(),
  callbackUrl: z.string().min(1),
  objectNames: z.array(z.string()).optional(),
  events: z.array(z.string()).optional(),
  stream: z.boolean().optional(),
  handleResponse: z.boolean().optional(),
  auth: z.looseObject({ apiKey: z.string() }).optional(),
});
export type RongBotIntegration = z.infer<typeof integration>;

const botFields = {
  name: maxChars(128),
  type: maxChars(128),
  profileUrl: maxChars(256),
  metadata: metadata.optional(),
  integrations: z.array(integration),
};

export const createBotInput = z.object({ userId: botId, ...botFields });
export type CreateBotInput = z.infer<typeof createBotInput>;

export const updateBotInput = z.object({ userId: botId, ...z.object(botFields).partial().shape });
export type UpdateBotInput = z.infer<typeof updateBotInput>;

export const rongClientOptions = z
  .object({
    appKey: z.string().min(1),
    appSecret: secretOption,
    region: z.enum(Object.keys(rongCloudRegions) as [keyof typeof rongCloudRegions]).optional(),
    baseUrl: z.url({ protocol: /^https?$/ }).optional(),
    backupBaseUrl: z.url({ protocol: /^https?$/ }).optional(),
    callbackUrl: z.url({ protocol: /^https?$/ }).optional(),
    messageRouting: z
      .union([z.boolean(), z.strictObject({ waitMs: z.number().int().min(0).max(60_000).optional() })])
      .optional(),
    routes: z
      .custom<object>(
        (v) =>
          typeof v === 'object' &&
          v !== null &&
          typeof (v as { find?: unknown }).find === 'function' &&
          typeof (v as { record?: unknown }).record === 'function',
        'must be a RouteStore: new RedisRouteStore(…) from @imbot/redis, or left out',
      )
      .optional(),
    buttons: z.enum(['signed', 'raw']).optional(),
    ...transportOptionsShape,
  })
  .refine((o) => (o.region === undefined) !== (o.baseUrl === undefined), {
    message: 'give either region or baseUrl (with backupBaseUrl), not both and not neither',
    path: ['region'],
  });

/** The envelope of every answer: `{ code: 200 }`, or `{ code, errorMessage }`. Unknown fields are kept. */
export const rongEnvelope = z.looseObject({ code: z.number().int(), errorMessage: z.string().optional() });

export const rongBot = z.looseObject({
  userId: z.string(),
  name: z.string().optional().default(''),
  type: z.string().optional(),
  profileUrl: z.string().optional().default(''),
  metadata: z.record(z.string(), z.string()).optional().default({}),
  integrations: z.array(integration).optional().default([]),
  createdAt: z.number().optional(),
  updatedAt: z.number().optional(),
});
export type RongBot = z.infer<typeof rongBot>;

export const getBotsAnswer = rongEnvelope.extend({ bots: z.array(rongBot).optional().default([]) });
export const queryBotsAnswer = rongEnvelope.extend({
  bots: z.array(rongBot).optional().default([]),
  hasNext: z.boolean().optional().default(false),
  total: z.number().optional(),
});
export const publishAnswer = rongEnvelope.extend({
  messageUIDs: z
    .array(z.looseObject({ userId: z.string().optional(), messageUID: z.string() }))
    .optional()
    .default([]),
});
export const streamAnswer = rongEnvelope.extend({ messageUID: z.string().min(1) });

/** `/v3/message/get_stream.json`: a stream's content as the server holds it. */
export const getStreamAnswer = rongEnvelope.extend({
  content: z.string(),
  seq: z.number().int().optional(),
  complete: z.boolean().optional(),
});

/** A message in RongCloud's words: its type (`RC:ImgMsg`, `IMB:CardMsg`) and content object. */
export const rongMessage = z.object({
  objectName: z.string().min(1).max(32),
  content: z.record(z.string(), z.unknown()),
  /** What push notices and clients that cannot render the type show. */
  pushContent: z.string().optional(),
});
export type RongMessage = z.infer<typeof rongMessage>;

/** Users a group message may @-mention; the emulator holds apps to it. */
export const MENTION_MAX = 30;

const text = z.string().min(1, 'must not be empty');
export const mentionList = z.array(rongUserId).max(MENTION_MAX).readonly();
/** Exactly one of `text` and `message`. */
function textOrMessage(value: { text?: unknown; message?: unknown }): boolean {
  return (value.text === undefined) !== (value.message === undefined);
}
const oneBody = { message: 'give either text or message', path: ['text'] };

export const publishPrivateInput = z
  .object({
    from: rongUserId,
    to: z.union([rongUserId, z.array(rongUserId).min(1).max(1000)]),
    text: text.optional(),
    message: rongMessage.optional(),
  })
  .refine(textOrMessage, oneBody);
export const publishGroupInput = z
  .object({
    from: rongUserId,
    groupId: rongUserId,
    /** Users the message @-mentions: `mentionedInfo` in its content, and `isMentioned`. */
    mention: mentionList.optional(),
    text: text.optional(),
    message: rongMessage.optional(),
  })
  .refine(textOrMessage, oneBody);
export type PublishPrivateInput = z.input<typeof publishPrivateInput>;
export type PublishGroupInput = z.input<typeof publishGroupInput>;

export const sendTypingInput = z.object({
  from: rongUserId,
  to: rongUserId,
  /** What runs, for clients that show it (the status message's `data`). */
  statusText: z.string().max(100).optional(),
});
export type RongSendTypingInput = z.input<typeof sendTypingInput>;

export const recallInput = z.object({
  from: rongUserId,
  conversation: z.enum(['private', 'group']),
  targetId: rongUserId,
  messageUID: z.string().min(1),
  /** When the message was sent, milliseconds since the epoch. */
  sentTime: z.number().int().positive(),
  /** Delete without the "message recalled" notice. */
  silent: z.boolean().optional(),
});
export type RecallInput = z.input<typeof recallInput>;

export const groupMembersInput = z.object({
  groupId: rongUserId,
  userIds: z.array(rongUserId).min(1).max(1000),
});
