import { ValidationError } from './errors.js';

/**
 * What one call of an API counts as against a budget: once (`call`), once per recipient it names
 * (`recipient`), or once per group it sends into (`target-group`). RongCloud counts its message
 * limits in messages, so a call to 1 000 users is 1 000 messages.
 */
export type RateCounting = 'call' | 'recipient' | 'target-group';

/**
 * One limit a cloud's documents state: its stable name (the key of an app's plan override), the
 * APIs that draw on it, how many units it allows in a window, and whether it is one budget for the
 * whole app (`app`) or one for each target the call names (`target`: a group, a channel, a stream).
 *
 * `apis: 'other'` is the row for every API no other app-scoped row names: each such API gets a
 * budget of its own, keyed by the API.
 */
export interface RateRow {
  readonly name: string;
  readonly apis: readonly string[] | 'other';
  readonly scope: 'app' | 'target';
  readonly limit: number;
  readonly windowMs: number;
  readonly counting: RateCounting;
  /** Whether the cloud lets an app's plan raise it (a console setting or a paid add-on). */
  readonly adjustable: boolean;
  /** The document that states it: title, URL or doc id. */
  readonly source: string;
}

/**
 * One budget a call draws on: `units` out of `limit` per `windowMs`, under `key`. App-wide
 * budgets are keyed by the row's name (`group/publish`) or, for the `other` row, by the API;
 * per-target ones by the row's name and the target (`group-messages:<GroupId>`).
 */
export interface RateCharge {
  readonly key: string;
  /** The row it comes from: what a refusal names, and what a plan override changes. */
  readonly row: string;
  readonly units: number;
  readonly limit: number;
  readonly windowMs: number;
}

/** What a cloud reads from a call's body to count it: recipients, groups, and each target row's targets. */
export interface CallCounts {
  readonly recipients: number;
  readonly groups: number;
  /** Per target-scoped row name, the targets this call names (none: the row does not apply). */
  readonly targets: (row: RateRow) => readonly string[];
}

/** An app's plan: limits by row name, each a positive number of units per the row's window. */
export type PlanLimits = Readonly<Record<string, number>>;

/**
 * The budgets one call of `api` draws on, in the table's order: each app-scoped row that names the
 * API (or the `other` row when none does), then every target-scoped row naming it once per target.
 * A call that names no recipient or group still costs one unit, as the cloud still serves it.
 */
export function chargesFor(table: readonly RateRow[], api: string, counts: CallCounts): RateCharge[] {
  const charges: RateCharge[] = [];
  const named = table.some((row) => row.scope === 'app' && row.apis !== 'other' && row.apis.includes(api));
  for (const row of table) {
    if (row.scope === 'app') {
      const applies = row.apis === 'other' ? !named : row.apis.includes(api);
      if (!applies) continue;
      const units =
        row.counting === 'recipient'
          ? counts.recipients
          : row.counting === 'target-group'
            ? counts.groups
            : 1;
      charges.push({
        key: row.apis === 'other' ? api : row.name,
        row: row.name,
        units: Math.max(1, units),
        limit: row.limit,
        windowMs: row.windowMs,
      });
    } else if (row.apis === 'other' || row.apis.includes(api)) {
      for (const target of counts.targets(row)) {
        charges.push({
          key: `${row.name}:${target}`,
          row: row.name,
          units: 1,
          limit: row.limit,
          windowMs: row.windowMs,
        });
      }
    }
  }
  return charges;
}

/**
 * The table with an app's plan applied: each named row's limit replaced. An unknown name or a
 * limit that is not a positive integer is refused with a `ValidationError` naming it, since a typo
 * would otherwise leave the documented limit silently in force.
 *
 * @example
 * withPlanLimits(rongCloudRateTable, { 'group/publish': 50 }); // a plan that raised group messages to 50/s
 */
export function withPlanLimits(
  table: readonly RateRow[],
  limits: PlanLimits | undefined,
  option = 'limits',
): RateRow[] {
  if (limits === undefined) return [...table];
  const names = new Set(table.map((row) => row.name));
  for (const [name, limit] of Object.entries(limits)) {
    if (!names.has(name)) {
      throw new ValidationError(
        `${option}.${name}`,
        `${option}: "${name}" is not a limit of this cloud; the limits are ${[...names].map((n) => `"${n}"`).join(', ')}`,
      );
    }
    if (typeof limit !== 'number' || !Number.isInteger(limit) || limit <= 0) {
      throw new ValidationError(
        `${option}.${name}`,
        `${option}.${name}: ${String(limit)} is not a positive whole number of units per window`,
        name,
      );
    }
  }
  return table.map((row) =>
    limits[row.name] === undefined ? row : { ...row, limit: limits[row.name] as number },
  );
}

/** The values of a body field given once, repeated (a form) or as an array (JSON), as strings. */
export function fieldValues(body: Readonly<Record<string, unknown>>, field: string): string[] {
  const value = body[field];
  const values = Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
  return values.filter((v) => typeof v === 'string' || typeof v === 'number').map(String);
}
