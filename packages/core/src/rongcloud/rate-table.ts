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
 * - "API 调用频率限制" / "Adjust Rate Limits" (platform-chat-api/limits; the rate table, last updated
 *   2026-01-09): limits are per App Key, most APIs 100 a second, HTTP 429 past one; those marked
 *   可调频 can be raised by the app's plan.
 * - message/send-private: /message/private/publish.json, 6 000 messages a minute.
 * - message/send-status-private: /statusmessage/private/publish.json, 6 000 a minute.
 * - message/send-group: /message/group/publish.json, 20 messages a second for the app.
 * - message/send-status-group: /statusmessage/group/publish.json, 20 a second.
 * - message/send-ultragroup: /message/ultragroup/publish.json, 100 a second for the app and 20 a
 *   second in each channel (or each ultra group, sent without a channel).
 * - message/send-private-stream: /v3/message/private/publish_stream.json, 100 calls a second.
 * - bot/*: 100 calls a second (create, get, query state it).
 *
 * The group stream (/v3/message/group/publish_stream.json) states no limit of its own: it is
 * counted as a group message (inferred). /message/private/publish_template.json is counted as
 * private messages (inferred from the rate table's message rows).
 */
const RATE_TABLE =
  'API 调用频率限制 / Adjust Rate Limits, docs.rongcloud.cn/platform-chat-api/limits (2026-01-09)';

/** The per-channel limit's row: 20 messages a second in each ultra-group channel. */
export const RONGCLOUD_CHANNEL_ROW = 'ultragroup/channel';

function messages(
  name: string,
  apis: string[],
  limit: number,
  windowMs: number,
  counting: 'recipient' | 'target-group',
  source: string,
): RateRow {
  return {
    name,
    apis,
    scope: 'app',
    limit,
    windowMs,
    counting,
    adjustable: true,
    source: `${source}; ${RATE_TABLE}`,
  };
}

/**
 * RongCloud's documented limits, named for the message family they govern (`private/publish`,
 * `group/publish`, …); `other` is 100 calls a second for each API not listed.
 */
export const rongCloudRateTable: readonly RateRow[] = [
  messages(
    'private/publish',
    ['/message/private/publish.json'],
    6000,
    60_000,
    'recipient',
    'message/send-private',
  ),
  messages(
    'private/publish_template',
    ['/message/private/publish_template.json'],
    6000,
    60_000,
    'recipient',
    'message/send-private-template (inferred: counted as private messages)',
  ),
  messages(
    'private/status',
    ['/statusmessage/private/publish.json'],
    6000,
    60_000,
    'recipient',
    'message/send-status-private',
  ),
  messages(
    'group/publish',
    ['/message/group/publish.json', '/v3/message/group/publish_stream.json'],
    20,
    1000,
    'target-group',
    'message/send-group; the group stream counts as a group message (inferred)',
  ),
  messages(
    'group/status',
    ['/statusmessage/group/publish.json'],
    20,
    1000,
    'target-group',
    'message/send-status-group',
  ),
  messages(
    'ultragroup/publish',
    ['/message/ultragroup/publish.json'],
    100,
    1000,
    'target-group',
    'message/send-ultragroup',
  ),
  {
    name: 'private/publish_stream',
    apis: ['/v3/message/private/publish_stream.json'],
    scope: 'app',
    limit: 100,
    windowMs: 1000,
    counting: 'call',
    adjustable: false,
    source: 'message/send-private-stream (调用频率: 每秒钟限 100 次)',
  },
  {
    name: 'other',
    apis: 'other',
    scope: 'app',
    limit: 100,
    windowMs: 1000,
    counting: 'call',
    adjustable: false,
    source: `${RATE_TABLE}: most APIs 100 a second; the bot pages (bot/create, bot/get) state it`,
  },
  {
    name: RONGCLOUD_CHANNEL_ROW,
    apis: ['/message/ultragroup/publish.json'],
    scope: 'target',
    limit: 20,
    windowMs: 1000,
    counting: 'call',
    adjustable: false,
    source: 'message/send-ultragroup (单个频道每秒钟最多发送 20 条)',
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
