import { type ApiErrorDetails, CloudApiError } from '../errors.js';

/** RongCloud answered a business code other than 200; `errorCode` is it, `errorMessage` its text. */
export class RongCloudApiError extends CloudApiError {
  readonly errorMessage: string;

  constructor(
    errorCode: number,
    errorMessage: string,
    details: ApiErrorDetails & { hint?: string | undefined },
  ) {
    super(
      'RONGCLOUD_API',
      'rongcloud',
      errorCode,
      `${details.endpoint} failed with code ${errorCode}: ${errorMessage}`,
      details,
    );
    this.errorMessage = errorMessage;
  }
}
