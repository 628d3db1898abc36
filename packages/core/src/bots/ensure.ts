import { isTransient, ValidationError } from '../errors.js';
import type { BotPlatform, BotSpec } from '../platform.js';
import { withRetry } from '../wire/retry.js';

export interface EnsureBotsOptions {
  /** Delete the app's bots that are not declared. Default false: undeclared bots are left alone. */
  prune?: boolean;
  /** Work out the report without changing anything. */
  dryRun?: boolean;
}

/** What `ensureBots` did (or, with `dryRun`, would do), by bot id. */
export interface EnsureBotsReport {
  created: string[];
  updated: string[];
  unchanged: string[];
  deleted: string[];
}

const PROFILE_FIELDS = ['name', 'avatarUrl', 'description'] as const;

/**
 * Makes the declared bots exist and match their declared profiles, idempotently: the specs are
 * checked before any request (format, limits, duplicates, how many the cloud allows), then the
 * missing bots are created, drifted profiles updated and, with `prune`, undeclared bots deleted, all
 * concurrently within the client's rate limit. Running it twice changes nothing the second time.
 *
 * @example
 * const report = await ensureBots(im.platform, [{ userId: '@RBT#helper', name: 'Helper' }]);
 */
export async function ensureBots(
  platform: BotPlatform,
  specs: BotSpec[],
  options: EnsureBotsOptions = {},
): Promise<EnsureBotsReport> {
  const declared = validateBotSpecs(platform, specs);
  const existing = await platform.listBots();
  const known = new Set(existing);
  const missing = declared.filter((spec) => !known.has(spec.userId));
  const present = declared.filter((spec) => known.has(spec.userId));
  const declaredIds = new Set(declared.map((spec) => spec.userId));
  const strangers = existing.filter((id) => !declaredIds.has(id));
  const undeclared = options.prune ? strangers : [];
  const total = existing.length - undeclared.length + missing.length;
  if (total > platform.maxBots) {
    throw new ValidationError(
      'bots',
      `bots: the app would have ${total} bots, more than the ${platform.maxBots} allowed; ` +
        `${strangers.length} of its bots are not declared: pass { prune: true } to delete them`,
    );
  }
  const profiles = new Map(
    (await platform.getBotProfiles(present.map((s) => s.userId))).map((p) => [p.userId, p]),
  );
  const drifted = present.filter((spec) => {
    const current = profiles.get(spec.userId) ?? { userId: spec.userId };
    return PROFILE_FIELDS.some(
      (field) => spec[field] !== undefined && spec[field] !== (current[field] ?? ''),
    );
  });
  const report: EnsureBotsReport = {
    created: missing.map((s) => s.userId),
    updated: drifted.map((s) => s.userId),
    unchanged: present.filter((s) => !drifted.includes(s)).map((s) => s.userId),
    deleted: undeclared,
  };
  if (options.dryRun) return report;
  // Deletions first, so that creations never push the app over its limit.
  await Promise.all(undeclared.map((id) => platform.deleteBot(id)));
  await Promise.all([
    ...missing.map((spec) => platform.createBot(spec)),
    ...drifted.map((spec) => platform.updateBot(spec)),
  ]);
  return report;
}

/**
 * Checks bot specs before anything is sent: each one as the platform requires, no id twice, and no
 * more than the platform allows. Returns the parsed specs; throws `ValidationError`.
 */
export function validateBotSpecs(platform: BotPlatform, specs: BotSpec[]): BotSpec[] {
  if (!Array.isArray(specs)) throw new ValidationError('bots', 'bots: must be an array of bot specs');
  if (specs.length > platform.maxBots) {
    throw new ValidationError(
      'bots',
      `bots: ${specs.length} bots declared; ${platform.name} allows ${platform.maxBots} per app`,
      `${platform.maxBots} bots`,
    );
  }
  const seen = new Set<string>();
  return specs.map((spec, index) => {
    const parsed = platform.validateBotSpec(spec, index);
    if (seen.has(parsed.userId)) {
      throw new ValidationError(
        `bots[${index}].userId`,
        `bots[${index}].userId: "${parsed.userId}" is declared twice`,
      );
    }
    seen.add(parsed.userId);
    return parsed;
  });
}

/**
 * `ensureBots` at an app's start-up: transient failures (the network, the cloud's rate limit) are
 * retried `retries` times (default 8) with backoff up to 30 s, so a bot app that starts while the
 * cloud is briefly unreachable still comes up. Every entry that ensures bots at start-up uses it.
 */
export function ensureBotsAtStartup(
  platform: BotPlatform,
  specs: BotSpec[],
  options: { prune?: boolean | undefined; retries?: number | undefined } = {},
): Promise<EnsureBotsReport> {
  return withRetry(
    () => ensureBots(platform, specs, { prune: options.prune ?? false }),
    (error) => (isTransient(error) ? 'retry' : 'stop'),
    { retries: options.retries ?? 8, minDelayMs: 500, maxDelayMs: 30_000 },
  );
}
