import type { DataSource, EntityTarget, ObjectLiteral } from 'typeorm';

/**
 * An entity from a row read straight through `pg` (`SELECT t.*`, or a row of `json_agg(t)`),
 * by the entity's own column metadata and TypeORM's own conversion of each value, as if the ORM
 * had read it: for the few hot reads that skip the ORM's query building. Columns the row lacks
 * stay unset; columns added to the entity later come with `t.*` by themselves.
 */
export function hydrate<T extends ObjectLiteral>(
  dataSource: DataSource,
  target: EntityTarget<T>,
  row: Record<string, unknown>,
): T {
  const metadata = dataSource.getMetadata(target);
  const entity = metadata.create() as T;
  for (const column of metadata.columns) {
    if (!(column.databaseName in row)) continue;
    const value = row[column.databaseName];
    column.setEntityValue(
      entity,
      value === null ? null : dataSource.driver.prepareHydratedValue(value, column),
    );
  }
  return entity;
}
