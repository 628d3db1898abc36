/**
 * RongCloud's data centres, each with a primary and a backup API domain. An app lives in one; the
 * client switches to the backup when the primary fails (and back when the backup does).
 */
export const rongCloudRegions = {
  china: { primary: 'api.rong-api.com', backup: 'api-b.rong-api.com' },
  singapore: { primary: 'api.sg-light-api.com', backup: 'api-b.sg-light-api.com' },
  'singapore-b': { primary: 'api.sg-b-light-api.com', backup: 'api-b.sg-b-light-api.com' },
  'north-america': { primary: 'api.us-light-api.com', backup: 'api-b.us-light-api.com' },
  'saudi-arabia': { primary: 'api.sau-light-api.com', backup: 'api-b.sau-light-api.com' },
} as const;

export type RongCloudRegion = keyof typeof rongCloudRegions;
