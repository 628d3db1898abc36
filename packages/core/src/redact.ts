/**
 * Secrets (secret key, UserSig, App Secret, request signature) taken out of any text the cloud or a
 * library sends back, however it was encoded on the way: a secret quoted in a URL may come back with
 * any of its non-alphanumeric characters percent-encoded (`*` as `%2A` or `%2a`), so each such
 * character also matches its `%XX` form.
 */

const patterns = new Map<string, RegExp>();

function escapeRegExp(char: string): string {
  return /[\\^$.*+?()[\]{}|/-]/.test(char) ? `\\${char}` : char;
}

/** A pattern matching `secret` as it is, or with any of its non-alphanumeric characters percent-encoded. */
function secretPattern(secret: string): RegExp {
  let pattern = patterns.get(secret);
  if (!pattern) {
    let source = '';
    for (const char of secret) {
      if (/^[A-Za-z0-9]$/.test(char)) {
        source += char;
        continue;
      }
      const encoded = [...new TextEncoder().encode(char)]
        .map(
          (byte) =>
            `%${byte
              .toString(16)
              .padStart(2, '0')
              .replace(/[a-f]/g, (h) => `[${h}${h.toUpperCase()}]`)}`,
        )
        .join('');
      source += `(?:${escapeRegExp(char)}|${encoded})`;
    }
    pattern = new RegExp(source, 'g');
    if (patterns.size > 64) patterns.clear(); // UserSigs renew: keep the cache small
    patterns.set(secret, pattern);
  }
  return pattern;
}

/** `text` with every one of `secrets` (raw or percent-encoded) replaced by `[redacted]`. */
export function redactSecrets(text: string, secrets: Iterable<string | undefined>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret) out = out.replace(secretPattern(secret), '[redacted]');
  }
  return out;
}
