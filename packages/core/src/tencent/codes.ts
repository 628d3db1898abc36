/**
 * What to do about each Tencent Cloud Chat error code. This is the only table of retryable codes:
 * the client, the stream scheduler and the emulator all read it from here.
 *
 * - `backoff`: a transient refusal (internal error, frequency limit, timeout inside the cloud);
 *   the call was not carried out and may be sent again after an exponential, jittered delay.
 * - `renew-usersig`: the admin UserSig expired; make a new one and send once more.
 * - `later`: refused for a while (`afterMs`); too long to wait inside one call, so surfaced with
 *   `retryable: true` for the caller to schedule.
 * - anything not listed: a mistake in the request or the account; sending it again cannot help.
 */
export type TencentRetry =
  | { kind: 'backoff' }
  | { kind: 'renew-usersig' }
  | { kind: 'later'; afterMs: number };

const backoff: TencentRetry = { kind: 'backoff' };

/** Tencent's "incorrect parameter": how it refuses a stream chunk whose `Index` is out of order. */
export const TENCENT_PARAMETER_ERROR = 10004;

export const tencentRetryCodes: ReadonlyMap<number, TencentRetry> = new Map<number, TencentRetry>([
  [10002, backoff], // internal error, "please retry"
  [10023, backoff], // a group's message frequency over the limit (40 a second in one group)
  [40006, backoff], // internal error while setting a profile
  [60007, backoff], // REST call frequency over the limit
  [60008, backoff], // service timeout
  [60011, backoff], // SDKAppID request frequency over the limit
  [60013, backoff], // the cloud could not parse an internal response
  [60014, backoff], // account swap timeout
  [60018, backoff], // too frequent, retry later
  [60019, backoff], // too frequent, retry later
  [70169, backoff], // internal timeout
  [70202, backoff], // internal timeout
  [70500, backoff], // internal error, retry later
  [70001, { kind: 'renew-usersig' }],
  [70050, { kind: 'later', afterMs: 60_000 }], // bad UserSig and rate limited: wait a minute
]);

/** The codes the emulator and the tests use for the cloud's frequency limit. */
export const TENCENT_FREQUENCY_LIMIT = 60007;

/** The code of a group's message frequency limit: 40 messages a second in one group. */
export const TENCENT_GROUP_FREQUENCY_LIMIT = 10023;

/** Short advice shown in an error message for codes whose cause is easy to misread. */
export const tencentHints: ReadonlyMap<number, string> = new Map([
  [60006, 'the SDKAppID is invalid'],
  [60010, 'the identifier must be an App admin'],
  [70001, 'the UserSig expired'],
  [70003, 'the UserSig could not be parsed; check that it is URL-encoded exactly once'],
  [70009, 'the UserSig does not verify: wrong secret key or SDKAppID'],
  [70013, 'the identifier is not the user the UserSig was made for'],
  [70014, 'the UserSig was made for another SDKAppID'],
  [70016, 'the SDKAppID is not in this data centre: check region'],
  [70020, 'the SDKAppID is not in this data centre: check region'],
  [10008, 'needs App admin rights, or the robot limit (20) was reached'],
  [40601, 'a profile field is longer than 500 bytes'],
]);
