/**
 * The RongCloud business codes worth sending again after a jittered backoff; the only table of
 * them: internal error (1000), call frequency over the limit (1008, HTTP 429), internal timeout
 * (1050, HTTP 504). Anything else (1001–1007 credentials, parameters, signature, app state; 1009
 * service off) cannot succeed by sending it again.
 */
export const rongCloudRetryCodes: ReadonlySet<number> = new Set([1000, 1008, 1050]);

/** RongCloud's parameter error: how it refuses a stream piece whose `seq` is out of order. */
export const RONGCLOUD_PARAMETER_ERROR = 1002;

/** The code the emulator and the tests use for RongCloud's frequency limit. */
export const RONGCLOUD_FREQUENCY_LIMIT = 1008;

/** Short advice for codes whose cause is easy to misread. */
export const rongCloudHints: ReadonlyMap<number, string> = new Map([
  [1001, 'the App Key and App Secret do not match'],
  [1004, 'the signature is wrong: check the App Secret (not the App Key) and the region'],
  [1006, 'the app is locked or deleted'],
  [1009, 'the service is not enabled for this app'],
]);
