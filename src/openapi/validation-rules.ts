import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { getMetadataStorage } from 'class-validator';
import type { ValidationMetadata } from 'class-validator/types/metadata/ValidationMetadata';

type Rule = (schema: SchemaObject, constraints: unknown[]) => void;

/** A class whose instances class-validator checks (a DTO). */
export type DtoClass = abstract new (...args: never[]) => unknown;

/**
 * What each class-validator check means in JSON Schema. The validators are what the service
 * enforces, so their bounds win over anything an @ApiProperty says. Checks without a schema
 * equivalent (ISO 8601 accepts more than `date-time`, custom constraints) document nothing.
 */
const RULES: Record<string, Rule> = {
  isInt: (s) => {
    s.type = 'integer';
  },
  min: (s, [n]) => {
    s.minimum = n as number;
  },
  max: (s, [n]) => {
    s.maximum = n as number;
  },
  minLength: (s, [n]) => {
    s.minLength = n as number;
  },
  maxLength: (s, [n]) => {
    s.maxLength = n as number;
  },
  isLength: (s, [min, max]) => {
    s.minLength = min as number;
    if (typeof max === 'number') s.maxLength = max;
  },
  isEmail: (s) => {
    s.format = 'email';
  },
  isUUID: (s) => {
    s.format = 'uuid';
  },
  matches: (s, [pattern]) => {
    s.pattern = pattern instanceof RegExp ? pattern.source : String(pattern);
  },
  isIn: (s, [values]) => {
    s.enum = [...(values as unknown[])];
  },
  arrayMinSize: (s, [n]) => {
    s.minItems = n as number;
  },
  arrayMaxSize: (s, [n]) => {
    s.maxItems = n as number;
  },
  arrayUnique: (s) => {
    s.uniqueItems = true;
  },
};

function metadataOf(target: DtoClass): ValidationMetadata[] {
  return getMetadataStorage().getTargetValidationMetadatas(target, '', true, false);
}

/** Writes the checks class-validator runs on `target.property` into that property's schema. */
export function applyPropertyRules(target: DtoClass, property: string, schema: SchemaObject) {
  for (const meta of metadataOf(target)) {
    if (meta.propertyName !== property || !meta.name) continue;
    const rule = RULES[meta.name];
    if (!rule) continue;
    const into = meta.each ? (schema.items as SchemaObject | undefined) : schema;
    if (into && !('$ref' in into)) rule(into, meta.constraints ?? []);
  }
}

/** The same for every property of an object schema built from `target`. */
export function applyClassRules(target: DtoClass, schema: SchemaObject): void {
  for (const [property, propertySchema] of Object.entries(schema.properties ?? {})) {
    if (!('$ref' in propertySchema)) applyPropertyRules(target, property, propertySchema);
  }
}

/**
 * Every class class-validator knows, by name: the document names its component schemas after
 * the DTO classes. Read from the storage's map, which has no public accessor; if a release
 * renames it this throws, and the OpenAPI drift test says so rather than losing the rules.
 */
export function validatedClassesByName(): Map<string, DtoClass> {
  const storage = getMetadataStorage() as unknown as { validationMetadatas?: unknown };
  if (!(storage.validationMetadatas instanceof Map)) {
    throw new Error('class-validator no longer keeps validationMetadatas in a Map');
  }
  const byName = new Map<string, DtoClass>();
  for (const target of (storage.validationMetadatas as Map<unknown, unknown>).keys()) {
    if (typeof target === 'function') byName.set(target.name, target as DtoClass);
  }
  return byName;
}
