/** True when `error` is PostgreSQL's unique violation, optionally of the named constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const driverError = (error as { driverError?: { code?: string; constraint?: string } })
    ?.driverError;
  const pg = driverError ?? (error as { code?: string; constraint?: string });
  return pg?.code === '23505' && (constraint === undefined || pg.constraint === constraint);
}
