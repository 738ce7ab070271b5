import { Transform } from 'class-transformer';
import { canonicalUuid } from './validation';

/** Trims a string input before validation; leaves anything else for the validators to refuse. */
export const Trim = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value));

/** Emails are compared case-insensitively: stored and looked up trimmed and lower-cased. */
export const NormaliseEmail = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.trim().toLowerCase() : value,
  );

/** A uuid in body or query is taken in its one spelling, lower case, as route parameters are. */
export const CanonicalUuid = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) => canonicalUuid(value));

/** A query flag: `true`/`false` become booleans; anything else is left for the validators to refuse. */
export const QueryBoolean = (): PropertyDecorator =>
  Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  );
