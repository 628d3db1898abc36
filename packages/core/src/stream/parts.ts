import { ImbotError } from '../errors.js';

/**
 * The parts of a structured answer stream that a stream session reads besides plain strings: an AI
 * SDK `fullStream` (`text-delta`, `reasoning-delta`, `tool-call`, `tool-result`, `error`, …) and the
 * Chat SDK's structured chunks (`markdown_text`, `task_update`, `plan_update`).
 */
export interface AnswerPart {
  readonly type: string;
  readonly [field: string]: unknown;
}

/**
 * What a session does with one item of its source: `text` is written; `progress` is something
 * running (a tool, a task, the model's reasoning) that keeps the typing signal alive, naming it where
 * `name` is given; `error` ends the answer as failed; `none` is bookkeeping (steps, starts, ends).
 */
export type PartMeaning =
  | { kind: 'text'; text: string }
  | { kind: 'progress'; part: AnswerPart; name?: string }
  | { kind: 'error'; error: unknown }
  | { kind: 'none' };

const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

/** The name of what a progress part says runs: a tool's name, or a task's or plan's title. */
export function progressName(part: AnswerPart): string | undefined {
  return str(part.toolName) ?? str(part.title);
}

/**
 * Classifies one item of an answer stream. Text parts carry `text` (AI SDK 5, Chat SDK) or
 * `textDelta` (AI SDK 4); a part with an unknown type is bookkeeping, so a newer SDK's parts are
 * passed over rather than refused.
 */
export function meaningOf(item: string | AnswerPart): PartMeaning {
  if (typeof item === 'string') return { kind: 'text', text: item };
  switch (item.type) {
    case 'text-delta':
    case 'text':
    case 'markdown_text': {
      const text = typeof item.text === 'string' ? item.text : item.textDelta;
      return typeof text === 'string' ? { kind: 'text', text } : { kind: 'none' };
    }
    case 'error':
      return {
        kind: 'error',
        error: item.error ?? new ImbotError('SOURCE_ERROR', 'the answer stream reported an error'),
      };
    case 'abort':
      return { kind: 'error', error: new ImbotError('SOURCE_ABORTED', 'the answer stream was aborted') };
    case 'tool-input-start':
    case 'tool-call-streaming-start':
    case 'tool-call':
    case 'task_update':
    case 'plan_update': {
      const name = progressName(item);
      return name === undefined ? { kind: 'progress', part: item } : { kind: 'progress', part: item, name };
    }
    case 'reasoning':
    case 'reasoning-start':
    case 'reasoning-delta':
    case 'tool-input-delta':
    case 'tool-result':
    case 'tool-error':
      return { kind: 'progress', part: item };
    default:
      return { kind: 'none' };
  }
}

/**
 * What the typing signal names while `part` runs, by the session's `statusText` option: nothing
 * (`false`), the option's choice (a function), or by default the part's own `name`.
 */
export function statusOf(
  statusText: false | ((part: AnswerPart) => string | undefined) | undefined,
  part: AnswerPart,
  name: string | undefined,
): string | undefined {
  return statusText === false ? undefined : statusText ? statusText(part) : name;
}
