import type { Type as Class } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, IsString, Max, MaxLength, Min } from 'class-validator';
import { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { ValidationFailedError } from './errors';
import { canonicalUuid, isTimestamp, isUuid } from './validation';

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 200;

/** `limit` and `cursor` of every list endpoint. */
export class PageQueryDto {
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  limit?: number;

  @ApiPropertyOptional({ description: 'The next_cursor of the previous page' })
  @IsOptional()
  @IsString()
  @MaxLength(500)
  cursor?: string;
}

export interface Page<T> {
  data: T[];
  next_cursor: string | null;
}

const pageDtos = new Map<Class<unknown>, Class<Page<unknown>>>();

/**
 * The response schema of a page of `item`s, `{data: [...], next_cursor}`, for
 * `@ApiOkResponse({ type: PageDtoOf(CustomerDto) })`. It is named after the item (`CustomerDto`
 * gives `CustomerPageDto`), and each item has one page class, wherever it is asked for.
 */
export function PageDtoOf<T>(item: Class<T>): Class<Page<T>> {
  const known = pageDtos.get(item);
  if (known) return known as Class<Page<T>>;
  class PageDto implements Page<T> {
    @ApiProperty({ type: [item] })
    data: T[];

    @ApiProperty({ type: String, nullable: true })
    next_cursor: string | null;
  }
  Object.defineProperty(PageDto, 'name', { value: `${item.name.replace(/Dto$/, '')}PageDto` });
  pageDtos.set(item, PageDto);
  return PageDto;
}

/** One column of a keyset ordering; values are what the cursor carries for it. */
export interface KeysetColumn<E> {
  /** SQL expression, e.g. `c.created_at`. */
  expression: string;
  /** Reads the column's value from an entity, as it will be written into the cursor. */
  value: (entity: E) => string | number;
  /** How the cursor's value is cast back in SQL, e.g. `timestamptz` or `uuid`. */
  cast: string;
}

/**
 * (created_at, id) of the entity aliased `alias`: the order of creation, newest first with
 * `DESC`, oldest first with `ASC`; the id breaks ties between rows of the same millisecond.
 */
export function creationOrder<E extends { createdAt: Date; id: string }>(
  alias: string,
): KeysetColumn<E>[] {
  return [
    {
      expression: `${alias}.created_at`,
      cast: 'timestamptz',
      value: (entity) => entity.createdAt.toISOString(),
    },
    { expression: `${alias}.id`, cast: 'uuid', value: (entity) => entity.id },
  ];
}

/**
 * Keyset pagination over (col1, col2, ...) in one direction: stable under inserts and as fast
 * on the thousandth page as on the first, unlike OFFSET. Timestamps are stored with millisecond
 * precision, so a JavaScript Date round-trips through the cursor exactly.
 */
export async function keysetPage<E extends ObjectLiteral, R>(
  query: SelectQueryBuilder<E>,
  columns: KeysetColumn<E>[],
  direction: 'ASC' | 'DESC',
  page: PageQueryDto,
  toResponse: (entity: E) => R,
): Promise<Page<R>> {
  const limit = page.limit ?? DEFAULT_PAGE_SIZE;
  if (page.cursor !== undefined) {
    const values = decodeCursor(page.cursor, columns);
    const params: Record<string, string | number> = {};
    const placeholders = values.map((value, i) => {
      params[`keyset_${i}`] = value;
      return `CAST(:keyset_${i} AS ${columns[i].cast})`;
    });
    const tuple = `(${columns.map((c) => c.expression).join(', ')})`;
    query.andWhere(
      `${tuple} ${direction === 'DESC' ? '<' : '>'} (${placeholders.join(', ')})`,
      params,
    );
  }
  for (const [i, column] of columns.entries()) {
    if (i === 0) query.orderBy(column.expression, direction);
    else query.addOrderBy(column.expression, direction);
  }
  return pageOfRows(await query.limit(limit + 1).getMany(), limit, columns, toResponse);
}

/**
 * The page of `rows`, read in the keyset's order and one more than `limit` to learn whether a
 * next page exists, as keysetPage answers it. For the list that reads its rows in its own
 * statement (decoding the cursor with decodeCursor) and still answers the same page.
 */
export function pageOfRows<E, R>(
  rows: E[],
  limit: number,
  columns: KeysetColumn<E>[],
  toResponse: (entity: E) => R,
): Page<R> {
  const more = rows.length > limit;
  const data = more ? rows.slice(0, limit) : rows;
  const last = data[data.length - 1];
  return {
    data: data.map(toResponse),
    next_cursor: more && last ? encodeCursor(columns.map((c) => c.value(last))) : null,
  };
}

/** The JSON of a page whose items are JSON texts already: as JSON.stringify writes a page. */
export function pageJson(page: Page<string>): string {
  return `{"data":[${page.data.join(',')}],"next_cursor":${JSON.stringify(page.next_cursor)}}`;
}

export function encodeCursor(values: (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;

/** A cursor is client input: each value is checked against its column before it reaches SQL. */
function fitsColumn(value: unknown, cast: string): boolean {
  if (cast === 'uuid') return isUuid(value);
  if (cast === 'timestamptz') {
    return typeof value === 'string' && ISO_TIME.test(value) && isTimestamp(value);
  }
  if (cast === 'bigint' || cast === 'integer') return Number.isSafeInteger(value);
  return typeof value === 'string' && value.length <= 500 && !value.includes('\0');
}

/** The values of a `next_cursor`, each checked against its column; 400 when it is not one. */
export function decodeCursor<E>(cursor: string, columns: KeysetColumn<E>[]): (string | number)[] {
  try {
    const values: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(values) &&
      values.length === columns.length &&
      values.every((v, i) => fitsColumn(v, columns[i].cast))
    ) {
      // An id in a cursor is client input too: one spelling, like every other uuid.
      return values.map((value, i) =>
        columns[i].cast === 'uuid' ? canonicalUuid(value) : value,
      ) as (string | number)[];
    }
  } catch {
    // falls through to the validation error
  }
  throw new ValidationFailedError([{ field: 'cursor', message: 'is not a valid cursor' }]);
}
