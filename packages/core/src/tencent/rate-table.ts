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
 * Tencent Cloud Chat's frequency limits, as its documents state them. Sources:
 *
 * - USE_LIMITS: "Use Limits" / 使用限制, www.tencentcloud.com/document/product/1047/34381 (updated
 *   2025-03-10) and cloud.tencent.com/document/product/269/9346 (updated 2025-11-04): at most 40
 *   messages a second in each group, whatever its type, each group separately; one-to-one messages
 *   sent through REST are limited by each API's own frequency.
 * - ADJUSTABLE: "关于即时通信 IM 服务端 API 调频收费的公告", cloud.tencent.com/document/product/269/93324
 *   (updated 2025-07-08): the APIs whose default (200/s, batchsendmsg 12 000/min counting each
 *   recipient) an app may raise in the console.
 * - Each API's own page states its frequency (调用频率限制 / "API call frequency limit"): the robot
 *   APIs 269/89991, 89992, 89993, 104537; sendmsg 269/2282; batchsendmsg 269/1612; send_group_msg
 *   1047/34959; portrait_set 269/1640; multiaccount_import 1047/34954 (100/s); the stream_msg APIs
 *   269/128596 and 269/128597 (5 calls a second on one stream).
 *
 * An API not named here falls under `other`: 200 calls a second, the default most API pages state.
 */
const USE_LIMITS = 'Use Limits, tencentcloud.com/document/product/1047/34381; 使用限制 269/9346';
const ADJUSTABLE = 'REST API frequency add-ons, cloud.tencent.com/document/product/269/93324';

/** The per-group limit's row: 40 messages a second into any one group. */
export const TENCENT_GROUP_ROW = 'group-messages';
/** The per-stream limit's row: 5 calls a second on one `stream_msg` stream. */
export const TENCENT_STREAM_ROW = 'stream-calls';

/** APIs that put a message into a group: each counts toward that group's 40 a second. */
const GROUP_MESSAGE_APIS = ['group_open_http_svc/send_group_msg', 'stream_msg/send_group_stream_msg'];

function perApi(api: string, limit: number, adjustable: boolean, source: string): RateRow {
  return {
    name: api,
    apis: [api],
    scope: 'app',
    limit,
    windowMs: 1000,
    counting: 'call',
    adjustable,
    source,
  };
}

/**
 * Tencent Cloud Chat's documented limits. Per-API rows are named by the API as the client calls it
 * (`openim/sendmsg`); `group-messages` is 40 a second in each group (on top of the API's own
 * limit), `stream-calls` 5 a second on each stream, `other` every API not listed.
 */
export const tencentRateTable: readonly RateRow[] = [
  perApi('openim_robot_http_svc/create_robot', 200, false, 'create_robot, 269/89991'),
  perApi('openim_robot_http_svc/delete_robot', 200, false, 'delete_robot, 269/89992'),
  perApi('openim_robot_http_svc/get_all_robots', 200, false, 'get_all_robots, 269/89993'),
  perApi('openim_robot_http_svc/send_stream_msg', 200, false, 'send_stream_msg, 269/104537'),
  perApi('openim/sendmsg', 200, true, `sendmsg, 269/2282; ${ADJUSTABLE}`),
  {
    name: 'openim/batchsendmsg',
    apis: ['openim/batchsendmsg'],
    scope: 'app',
    limit: 12_000,
    windowMs: 60_000,
    counting: 'recipient',
    adjustable: true,
    source: `batchsendmsg, 269/1612; ${ADJUSTABLE} (500 recipients count 500)`,
  },
  perApi('group_open_http_svc/send_group_msg', 200, true, `send_group_msg, 1047/34959; ${ADJUSTABLE}`),
  perApi('group_open_http_svc/send_group_system_notification', 200, true, ADJUSTABLE),
  perApi('group_open_http_svc/add_group_member', 200, true, ADJUSTABLE),
  perApi('group_open_http_svc/delete_group_member', 200, true, ADJUSTABLE),
  perApi('group_open_http_svc/get_group_info', 200, true, ADJUSTABLE),
  perApi('group_open_http_svc/group_msg_get_simple', 200, true, ADJUSTABLE),
  perApi('profile/portrait_set', 200, true, `portrait_set, 269/1640; ${ADJUSTABLE}`),
  perApi('profile/portrait_get', 200, true, ADJUSTABLE),
  perApi('im_open_login_svc/multiaccount_import', 100, false, 'multiaccount_import, 1047/34954'),
  {
    name: 'other',
    apis: 'other',
    scope: 'app',
    limit: 200,
    windowMs: 1000,
    counting: 'call',
    adjustable: false,
    source: 'the 200/s most API pages state; assumed for APIs whose page was not read (inferred)',
  },
  {
    name: TENCENT_GROUP_ROW,
    apis: GROUP_MESSAGE_APIS,
    scope: 'target',
    limit: 40,
    windowMs: 1000,
    counting: 'call',
    adjustable: false,
    source: `${USE_LIMITS}; a group stream call counts as a message into the group (inferred)`,
  },
  {
    name: TENCENT_STREAM_ROW,
    apis: ['stream_msg/send_c2c_stream_msg', 'stream_msg/send_group_stream_msg'],
    scope: 'target',
    limit: 5,
    windowMs: 1000,
    counting: 'call',
    adjustable: false,
    source: 'send_c2c_stream_msg 269/128596, send_group_stream_msg 269/128597',
  },
];

/** The `StreamMsgID` a continuation of a `stream_msg` stream carries in its `TIMStreamElem`. */
function streamMsgId(body: Readonly<Record<string, unknown>>): string | undefined {
  const first = Array.isArray(body.MsgBody)
    ? (body.MsgBody[0] as { MsgContent?: unknown } | undefined)
    : undefined;
  const content = first?.MsgContent as { StreamMsgID?: unknown } | undefined;
  return typeof content?.StreamMsgID === 'string' && content.StreamMsgID !== ''
    ? content.StreamMsgID
    : undefined;
}

/** What one Tencent call names: its recipients (`To_Account`), its group (`GroupId`), its stream. */
function tencentCounts(body: Readonly<Record<string, unknown>>): CallCounts {
  const groups = fieldValues(body, 'GroupId');
  const stream = streamMsgId(body);
  return {
    recipients: fieldValues(body, 'To_Account').length,
    groups: groups.length,
    targets: (row) => (row.name === TENCENT_GROUP_ROW ? groups : stream ? [stream] : []),
  };
}

/**
 * The budgets one Tencent call draws on, given the API as the client names it
 * (`group_open_http_svc/send_group_msg`) and its JSON body. A group message draws on its API's
 * 200 a second and on `group-messages:<GroupId>`'s 40; a stream continuation also on
 * `stream-calls:<StreamMsgID>`'s 5.
 *
 * @example
 * tencentRateCharges('group_open_http_svc/send_group_msg', { GroupId: 'g1' });
 * // [{ key: 'group_open_http_svc/send_group_msg', units: 1, limit: 200, windowMs: 1000, … },
 * //  { key: 'group-messages:g1', units: 1, limit: 40, windowMs: 1000, … }]
 */
export function tencentRateCharges(
  api: string,
  body: Readonly<Record<string, unknown>> = {},
  table: readonly RateRow[] = tencentRateTable,
): RateCharge[] {
  return chargesFor(table, api.replace(/^\/?v4\//, ''), tencentCounts(body));
}

/**
 * Tencent's table with an app's plan applied (`{ 'openim/sendmsg': 400 }`), by row name; refuses
 * an unknown name or a non-positive limit with a `ValidationError`.
 */
export function tencentRateTableFor(limits: PlanLimits | undefined, option = 'limits'): RateRow[] {
  return withPlanLimits(tencentRateTable, limits, option);
}
