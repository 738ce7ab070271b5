import { ConflictError } from '../common/errors';

/** The error codes of the catalogue of features and plans. */
export const PLANS_ERROR_CODES = ['feature_exists', 'plan_exists'] as const;
export type PlansErrorCode = (typeof PLANS_ERROR_CODES)[number];

export class FeatureExistsError extends ConflictError<PlansErrorCode> {
  constructor(code: string) {
    super('feature_exists', `A feature with code ${code} exists.`);
  }
}

export class PlanExistsError extends ConflictError<PlansErrorCode> {
  constructor(code: string) {
    super('plan_exists', `A plan with code ${code} exists.`);
  }
}
