import { describe, expect, it } from 'vitest';
import { tencentCallbackSign } from './webhook.js';

describe('tencentCallbackSign', () => {
  it('matches the documented vector (token xxxxyyyy)', () => {
    expect(tencentCallbackSign('xxxxyyyy', 1669872112)).toBe(
      '17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061',
    );
  });

  it('gives the corrected digest for the English page’s 3+3-letter token', () => {
    expect(tencentCallbackSign('xxxyyy', '1669872112')).toBe(
      'e78a85473bed2cdc8d6fa8c4d5a4ba4735fd64156e15a99516b9890293e135de',
    );
  });
});
