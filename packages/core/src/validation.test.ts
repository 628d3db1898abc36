import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { maxBytes, parseInput, utf8Bytes } from './validation.js';

describe('maxBytes', () => {
  it('accepts a string exactly when its UTF-8 encoding fits, whatever characters it holds', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.integer({ min: 0, max: 120 }),
        (text, limit) => {
          const fits = new TextEncoder().encode(text).length <= limit;
          expect(maxBytes(limit).safeParse(text).success).toBe(fits);
        },
      ),
    );
  });

  it('counts bytes, not characters', () => {
    expect(utf8Bytes('é')).toBe(2);
    expect(utf8Bytes('字')).toBe(3);
    expect(utf8Bytes('😀')).toBe(4);
  });
});

describe('parseInput', () => {
  it('names the field path and the limit', () => {
    const schema = maxBytes(4);
    try {
      parseInput(schema, 'héllo', 'nick');
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect(error).toMatchObject({ field: 'nick', limit: '4 bytes', code: 'VALIDATION' });
      expect((error as Error).message).toBe('nick: "héllo" is 6 bytes; the limit is 4 bytes (UTF-8)');
    }
  });

  it('shortens long values in the message', () => {
    expect(() => parseInput(maxBytes(10), 'x'.repeat(2_000_000), 'text')).toThrow(
      `text: "${'x'.repeat(24)}…" is 2000000 bytes; the limit is 10 bytes (UTF-8)`,
    );
  });
});
