import { applyDecorators } from '@nestjs/common';
import { ApiResponse, getSchemaPath } from '@nestjs/swagger';
import { ProblemDetailsDto } from './problem-details.dto';

const DESCRIPTIONS: Record<number, string> = {
  400: 'Validation failed (`validation_failed`)',
  401: 'Missing, invalid or expired credentials (`unauthenticated`)',
  403: 'Not allowed for this role or key (`forbidden`)',
  404: 'Not found (`not_found`)',
  409: 'Conflict with the current state',
  413: 'The body is over 100 kB (`payload_too_large`)',
  429: 'Too many attempts (`too_many_attempts`)',
};

/** Documents problem-details answers; `overrides` replaces a default description. */
export function ApiProblemResponses(...statuses: (number | [number, string])[]) {
  return applyDecorators(
    ...statuses.map((entry) => {
      const [status, description] = Array.isArray(entry) ? entry : [entry, DESCRIPTIONS[entry]];
      return ApiResponse({
        status,
        description,
        content: {
          'application/problem+json': { schema: { $ref: getSchemaPath(ProblemDetailsDto) } },
        },
      });
    }),
  );
}
