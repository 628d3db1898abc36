import {
  type CallCounts,
  chargesFor,
  fieldValues,
  type PlanLimits,
  type RateCharge,
  type RateRow,
  withPlanLimits,
} from '../rate-rows.js';

/*
 * RongCloud's Server API limits, as its documents state them. RongCloud counts message limits in
 * messages: a call to 1 000 users is 1 000 messages, a call to 3 groups is 3. Over a limit it
 * answers HTTP 429 with code 1008. Sources (docs.rongcloud.cn / docs.rongcloud.io, platform-chat-api):
 *
 * - The rate table, "API 调用频率限制" (last updated 2026-01-09), and "Adjust Rate Limits"
 *   (platform-chat-api/limits): limits are per App Key; most APIs 100 calls a second; HTTP 429
 *   past a limit; rows marked 可调频 can be raised by the app's plan. Its message rows: private
 *   messages (publish, publish_template, status) 6 000 a minute counted per recipient; group
 *   messages and group status messages 20 a second counted per target group; ultra-group messages
 *   100 a second counted per target group, 20 a second in one channel; system messages 100 a second
 *   per recipient. The rows below name every API whose limit is not 100 calls a second.
 * - Each API's own page repeats its row: message/send-private, send-status-private, send-group,
 *   send-status-group, send-ultragroup (without a channel, 20 a second into one ultra group).
 * - message/send-private-stream: /v3/message/private/publish_stream.json, 100 calls a second (the
 *   rate table does not list the stream APIs).
 * - bot/create, bot/get, bot/query: 100 calls a second.
 *
 * The group stream (/v3/message/group/publish_stream.json) states no limit of its own: it is
 * counted as a group message (inferred). "自然日" (a calendar day) is held as a rolling 24 hours.
 */
const RATE_TABLE = 'API 调用频率限制 (rate table, 2026-01-09), docs.rongcloud.cn/platform-chat-api';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The per-channel limit's row: 20 messages a second in each ultra-group channel. */
export const RONGCLOUD_CHANNEL_ROW = 'ultragroup/channel';

/** An app-wide row of the rate table. */
function row(
  name: string,
  apis: string[],
  limit: number,
  windowMs: number,
  counting: RateRow['counting'],
  adjustable: boolean,
  source = '',
): RateRow {
  return {
    name,
    apis,
    scope: 'app',
    limit,
    windowMs,
    counting,
    adjustable,
    source: source ? `${source}; ${RATE_TABLE}` : RATE_TABLE,
  };
}

const PUSH = ['/push.json'];
const BROADCAST = ['/message/broadcast.json'];

/**
 * RongCloud's documented limits, named for the message family or API they govern
 * (`private/publish`, `group/publish`, `user/getToken`, …); `other` is 100 calls a second for each
 * API not listed, the limit the rate table gives most.
 */
export const rongCloudRateTable: readonly RateRow[] = [
  row(
    'private/publish',
    ['/message/private/publish.json'],
    6000,
    MINUTE,
    'recipient',
    true,
    'message/send-private',
  ),
  row(
    'private/publish_template',
    ['/message/private/publish_template.json'],
    6000,
    MINUTE,
    'recipient',
    true,
  ),
  row(
    'private/status',
    ['/statusmessage/private/publish.json'],
    6000,
    MINUTE,
    'recipient',
    true,
    'message/send-status-private',
  ),
  row(
    'group/publish',
    ['/message/group/publish.json', '/v3/message/group/publish_stream.json'],
    20,
    SECOND,
    'target-group',
    true,
    'message/send-group; the group stream counts as a group message (inferred)',
  ),
  row(
    'group/status',
    ['/statusmessage/group/publish.json'],
    20,
    SECOND,
    'target-group',
    true,
    'message/send-status-group',
  ),
  row(
    'ultragroup/publish',
    ['/message/ultragroup/publish.json'],
    100,
    SECOND,
    'target-group',
    true,
    'message/send-ultragroup',
  ),
  row('system/publish', ['/message/system/publish.json'], 100, SECOND, 'recipient', true),
  row('system/publish_template', ['/message/system/publish_template.json'], 100, SECOND, 'recipient', true),
  row('push/user', ['/push/user.json'], 100, SECOND, 'recipient', true),
  // /push.json serves three kinds of notification that share one quota: 2 an hour and 3 a day.
  row('push/hour', PUSH, 2, HOUR, 'call', true),
  row('push/day', PUSH, 3, DAY, 'call', true),
  row('broadcast/hour', BROADCAST, 2, HOUR, 'call', true),
  row('broadcast/day', BROADCAST, 3, DAY, 'call', true),
  row('broadcast/recall/hour', ['/message/broadcast/recall.json'], 2, HOUR, 'call', false),
  row('broadcast/recall/day', ['/message/broadcast/recall.json'], 3, DAY, 'call', false),
  row('online/broadcast', ['/message/online/broadcast.json'], 60, MINUTE, 'call', false),
  row('push/custom/hour', ['/push/custom.json'], 20, HOUR, 'call', false),
  row('push/custom/day', ['/push/custom.json'], 100, DAY, 'call', false),
  row('user/getToken', ['/user/getToken.json'], 200, SECOND, 'call', true),
  row('user/tag/batch/set', ['/user/tag/batch/set.json'], 10, SECOND, 'call', true),
  row('ultragroup/msg/get', ['/ultragroup/msg/get.json'], 5, SECOND, 'call', false),
  row('ultragroup/msg/modify', ['/ultragroup/msg/modify.json'], 100, MINUTE, 'call', false),
  row('ultragroup/hismsg/query', ['/ultragroup/hismsg/query.json'], 100, MINUTE, 'call', false),
  row('stat/getDayPushData', ['/stat/getDayPushData'], 1, SECOND, 'call', false),
  row('stat/getPushIdData', ['/stat/getPushIdData'], 1, SECOND, 'call', false),
  row(
    'private/publish_stream',
    ['/v3/message/private/publish_stream.json'],
    100,
    SECOND,
    'call',
    false,
    'message/send-private-stream (调用频率: 每秒钟限 100 次)',
  ),
  {
    name: 'other',
    apis: 'other',
    scope: 'app',
    limit: 100,
    windowMs: SECOND,
    counting: 'call',
    adjustable: false,
    source: `${RATE_TABLE}: 100 calls a second for most APIs (many marked 可调频); bot/create, bot/get state it`,
  },
  {
    name: RONGCLOUD_CHANNEL_ROW,
    apis: ['/message/ultragroup/publish.json'],
    scope: 'target',
    limit: 20,
    windowMs: SECOND,
    counting: 'call',
    adjustable: false,
    source: `message/send-ultragroup (单个频道每秒钟最多发送 20 条); ${RATE_TABLE}`,
  },
];

/** What one RongCloud call names: recipients (`toUserId`), groups (`toGroupId`, `toGroupIds`), channels. */
function rongCloudCounts(body: Readonly<Record<string, unknown>>): CallCounts {
  const groups = [...fieldValues(body, 'toGroupId'), ...fieldValues(body, 'toGroupIds')];
  const channel = fieldValues(body, 'busChannel')[0] ?? '';
  return {
    recipients: fieldValues(body, 'toUserId').length,
    groups: groups.length,
    targets: (row) => (row.name === RONGCLOUD_CHANNEL_ROW ? groups.map((g) => `${g}/${channel}`) : []),
  };
}

/**
 * The budgets one RongCloud call draws on, given its path as the client names it
 * (`/message/group/publish.json`) and its fields (form fields given more than once as an array).
 * Message APIs count messages: a private publish to 3 users is 3 units of `private/publish`'s
 * 6 000 a minute, a group publish to 2 groups 2 units of `group/publish`'s 20 a second.
 *
 * @example
 * rongCloudRateCharges('/message/private/publish.json', { fromUserId: 'bot', toUserId: ['a', 'b', 'c'] });
 * // [{ key: 'private/publish', row: 'private/publish', units: 3, limit: 6000, windowMs: 60000 }]
 */
export function rongCloudRateCharges(
  api: string,
  body: Readonly<Record<string, unknown>> = {},
  table: readonly RateRow[] = rongCloudRateTable,
): RateCharge[] {
  return chargesFor(table, api, rongCloudCounts(body));
}

/**
 * RongCloud's table with an app's plan applied (`{ 'group/publish': 50 }`), by row name; refuses
 * an unknown name or a non-positive limit with a `ValidationError`.
 */
export function rongCloudRateTableFor(limits: PlanLimits | undefined, option = 'limits'): RateRow[] {
  return withPlanLimits(rongCloudRateTable, limits, option);
}
