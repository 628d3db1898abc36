import * as z from 'zod';
import { type Entry, thrownAt, ValidationError } from './errors.js';

/** Length of `text` in UTF-8 bytes, the unit the clouds use for their field limits. */
export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** Shortens a value for an error message, so a 2 MB input does not become a 2 MB message. */
export function preview(text: string, max = 24): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, max).join('')}…`;
}

/** A string of at most `limit` UTF-8 bytes, with an error message that names both. */
export function maxBytes(limit: number) {
  return z.string().superRefine((value, ctx) => {
    const bytes = utf8Bytes(value);
    if (bytes > limit) {
      ctx.addIssue({
        code: 'custom',
        message: `"${preview(value)}" is ${bytes} bytes; the limit is ${limit} bytes (UTF-8)`,
        params: { limit: `${limit} bytes` },
      });
    }
  });
}

/** A string of at most `limit` characters (code points), for limits the cloud counts in characters. */
export function maxChars(limit: number) {
  return z.string().superRefine((value, ctx) => {
    const chars = Array.from(value).length;
    if (chars > limit) {
      ctx.addIssue({
        code: 'custom',
        message: `"${preview(value)}" is ${chars} characters; the limit is ${limit}`,
        params: { limit: `${limit} characters` },
      });
    }
  });
}

/** A non-empty string of at most `limit` UTF-8 bytes. */
export function boundedId(limit: number) {
  return maxBytes(limit).refine((value) => value.length > 0, { message: 'must not be empty' });
}

/**
 * Parses `value` with `schema`, turning the first problem into a `ValidationError` whose `field`
 * is the dotted path (prefixed with `what`) and whose message says what is wrong and what is allowed.
 * With `entry` (the function or class the app called), the error's stack starts at the app's call.
 */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  entry?: Entry,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const field = path ? `${what}.${path}` : what;
  const limit = (issue as { params?: { limit?: string } } | undefined)?.params?.limit;
  const error = new ValidationError(field, `${field}: ${issue?.message ?? 'is invalid'}`, limit);
  throw entry ? thrownAt(error, entry) : error;
}
