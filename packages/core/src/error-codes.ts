/**
 * Every `code` an imbot package throws, each with when it is thrown, and the package that throws it.
 * This table is the single source of `ImbotErrorCode`: a code that is not here is a type error where
 * it is thrown or compared, so a sibling package (`@imbot/redis`, `@imbot/chat-adapter`, …) that
 * needs a new code adds it here. A test scans every package's sources and fails when a thrown code
 * is missing here or a code here is thrown nowhere.
 *
 * It lives beside `errors.ts` rather than in it because some codes name a cloud, and the neutral
 * errors must not.
 */
export const IMBOT_ERROR_CODES = {
  /** `ValidationError`: an input broke a documented limit; nothing was sent. */
  VALIDATION: '@imbot/core',
  /** `TimeoutError`: a call had no answer within `timeoutMs`; it may have reached the cloud. */
  TIMEOUT: '@imbot/core',
  /** `NetworkError`: the connection failed; `sent` is `false` when nothing was written. */
  NETWORK: '@imbot/core',
  /** `ApiError`: the cloud (or a gateway before it) answered with an HTTP status other than 200. */
  HTTP_STATUS: '@imbot/core',
  /** `ApiError`: the answer's body was not the documented JSON envelope or payload. */
  MALFORMED_RESPONSE: '@imbot/core',
  /** `TencentApiError`: Tencent answered `ActionStatus: FAIL` with its own `ErrorCode`. */
  TENCENT_API: '@imbot/core',
  /** `RongCloudApiError`: RongCloud answered a business code other than 200. */
  RONGCLOUD_API: '@imbot/core',
  /** `ImbotError`: the caller's `signal` aborted a call, while it waited or in flight. */
  ABORTED: '@imbot/core',
  /** `UserSigError`: `verifyUserSig` refused a UserSig (malformed, another app or key, expired). */
  USERSIG: '@imbot/core',
  /** `NotSupportedError`: the cloud has no way to do what was asked (edit a group message, say). */
  NOT_SUPPORTED: '@imbot/core',
  /** `WebhookVerificationError`: a webhook request was refused before any handler; `problem` says why. */
  WEBHOOK_VERIFICATION: '@imbot/core',
  /** `ImbotError`: receiving a webhook failed with an error that was not an `ImbotError`; answered 500. */
  WEBHOOK_FAILED: '@imbot/core',
  /** `ImbotError`: a handler threw something that is not an `Error`; reported to `onError`. */
  HANDLER_FAILED: '@imbot/core',
  /** `ImbotError`: the receiver's durable inbox could not record a message; the cloud is asked to deliver again. */
  INBOX_UNAVAILABLE: '@imbot/core',
  /** `ImbotError`: the receiver's stop channel could not send a stop; the cloud is asked to deliver it again. */
  STOPS_UNAVAILABLE: '@imbot/core',
  /** `ImbotError`: the client was told `transport: 'undici'` where undici cannot work (no `Pool.dispatch`). */
  TRANSPORT_UNAVAILABLE: '@imbot/core',
  /** `ImbotError`: a middleware called `next()` twice. */
  MIDDLEWARE_MISUSED: '@imbot/core',
  /** `ImbotError`: an activity adapter's `history(context)` in a turn that answers no user's message. */
  NO_MESSAGE: '@imbot/core',
  /** `ButtonPressRefusedError`: a card button press whose signature does not hold for its conversation; reaches no handler. */
  ACTION_REFUSED: '@imbot/core',
  /** `ImbotError`: the receiver is closing; a delivery is refused, or a waiting message is dropped. */
  SHUTTING_DOWN: '@imbot/core',
  /** `NotHandledError`: a message was acknowledged but `close()` came before its turn. */
  NOT_HANDLED: '@imbot/core',
  /** `InterruptedError`: a newer message from the same user interrupted the answer (`concurrency: 'interrupt'`). */
  INTERRUPTED: '@imbot/core',
  /** `StoppedError`: the user stopped the answer (a stop word or the cloud's interrupt message). */
  STOPPED: '@imbot/core',
  /** `ClosedError`: a shared resource (a rate limiter, say) was used after `close()`. */
  CLOSED: '@imbot/core',
  /** `StreamClosedError`: text was written to a stream session that has ended, is ending, or failed. */
  STREAM_CLOSED: '@imbot/core',
  /** `StreamSourceError`: the text source piped into a stream session failed; `cause` is its error. */
  STREAM_SOURCE: '@imbot/core',
  /** `ImbotError`: a streamed message was not delivered, or a resumed one cannot be settled yet. */
  STREAM_FAILED: '@imbot/core',
  /** `ImbotError`: a stream session was asked for a transition its state machine forbids (a bug). */
  STREAM_STATE: '@imbot/core',
  /** `ImbotError`: an answer stream (AI SDK parts) reported an error part that carried no error. */
  SOURCE_ERROR: '@imbot/core',
  /** `ImbotError`: an answer stream (AI SDK parts) reported that it was aborted. */
  SOURCE_ABORTED: '@imbot/core',
  /** `ImbotError` from `@imbot/redis`: Redis was unreachable or refused the routed messages' transaction. */
  ROUTES_UNAVAILABLE: '@imbot/redis',
  /** `ImbotError` from `@imbot/redis`: Redis was unreachable for the transcript store's read or write. */
  TRANSCRIPT_UNAVAILABLE: '@imbot/redis',
  /** `ImbotError` from `@imbot/chat-adapter`: the adapter was used before the Chat SDK initialized it. */
  NOT_INITIALIZED: '@imbot/chat-adapter',
} as const;

/** The `code` of an `ImbotError`: one of `IMBOT_ERROR_CODES`, each documented there. */
export type ImbotErrorCode = keyof typeof IMBOT_ERROR_CODES;
