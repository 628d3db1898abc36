import { type ApiErrorDetails, CloudApiError, ImbotError } from '../errors.js';

/** Tencent Cloud Chat answered `ActionStatus: "FAIL"`; `errorCode` is its `ErrorCode`. */
export class TencentApiError extends CloudApiError {
  readonly errorInfo: string;

  constructor(
    errorCode: number,
    errorInfo: string,
    details: ApiErrorDetails & { hint?: string | undefined },
  ) {
    super(
      'TENCENT_API',
      'tencent',
      errorCode,
      `${details.endpoint} failed with ErrorCode ${errorCode}: ${errorInfo}`,
      details,
    );
    this.errorInfo = errorInfo;
  }
}

/** Why a UserSig was refused; each maps to the cloud's own error code. */
export type UserSigProblem = 'malformed' | 'sdkappid-mismatch' | 'bad-signature' | 'expired';

/** A UserSig could not be decoded, was signed with another key or app, or has expired. */
export class UserSigError extends ImbotError {
  readonly problem: UserSigProblem;

  constructor(problem: UserSigProblem, message: string) {
    super('USERSIG', message);
    this.problem = problem;
  }
}
