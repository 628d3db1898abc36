import type { RateCharge, RateRow } from '@imbot/core/tencent';

/**
 * The budgets the emulator holds a call to. By default, the charges of core's table of the cloud's
 * documented limits (with the emulator's `limits`, an app's plan, applied). With `rateLimit`, the
 * old flat override: every app-wide budget of the call is replaced by one of `rateLimit` calls a
 * second for its API alone, while the per-target budgets (a group's 40 a second, an ultra-group
 * channel's 20, a stream's 5) stay as documented; `limits` changes those.
 */
export function emulatedCharges(
  charges: readonly RateCharge[],
  table: readonly RateRow[],
  api: string,
  rateLimit: number | undefined,
): readonly RateCharge[] {
  if (rateLimit === undefined) return charges;
  const scope = new Map(table.map((row) => [row.name, row.scope]));
  return [
    { key: api, row: 'rateLimit', units: 1, limit: rateLimit, windowMs: 1000 },
    ...charges.filter((charge) => scope.get(charge.row) === 'target'),
  ];
}

/** What most APIs may make in a second: the console chart's budget line. */
export function defaultPerSecond(table: readonly RateRow[], rateLimit: number | undefined): number {
  const other = table.find((row) => row.apis === 'other');
  return rateLimit ?? (other ? Math.round((other.limit * 1000) / other.windowMs) : 0);
}
