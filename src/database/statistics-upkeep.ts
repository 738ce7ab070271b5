/**
 * Why the planner's statistics of the service's tables would go stale, or undefined when the
 * server keeps them: autovacuum off (server-wide, or for one of the tables the hot statements
 * read). Without it nothing analyses the tables: a statement planned while a table was a few
 * rows (a new deployment's) keeps scanning it whole once it holds thousands, and every update
 * leaves a dead row version behind. Found the hard way on a server with it off (bench/RESULTS.md,
 * "Mixed load").
 */
export async function statisticsUpkeepRisk(
  query: (sql: string) => Promise<{ autovacuum: string; off_tables: string | null }[]>,
): Promise<string | undefined> {
  const [settings] = await query(
    `SELECT current_setting('autovacuum') AS autovacuum,
            (SELECT string_agg(c.relname, ', ' ORDER BY c.relname)
               FROM pg_class c
              WHERE c.relname IN ('audit_logs', 'customers', 'holds', 'events')
                AND c.relnamespace = current_schema()::regnamespace
                AND 'autovacuum_enabled=false' = ANY (c.reloptions)) AS off_tables`,
  );
  const risks = [
    ...(settings.autovacuum === 'on' ? [] : ['the database server runs with autovacuum off']),
    ...(settings.off_tables ? [`autovacuum is off for ${settings.off_tables}`] : []),
  ];
  return risks.length > 0 ? risks.join('; ') : undefined;
}
