/**
 * The SQL list of a constant's values, for a check constraint built from the same constant the
 * DTOs and types use: `status IN (${sqlList(CUSTOMER_STATUSES)})` reads `status IN ('enabled',
 * 'disabled')`. Values are code constants, never input.
 */
export const sqlList = (values: readonly string[]): string =>
  values.map((value) => `'${value}'`).join(', ');
