import { ServiceUnavailableException } from '@nestjs/common';
import { toProblem } from './problem-details.filter';

describe('toProblem', () => {
  it('answers a 503 (the readiness probe’s) as service_unavailable, as openapi.json documents', () => {
    const { problem } = toProblem(new ServiceUnavailableException('The database does not answer.'));
    expect(problem).toMatchObject({
      type: 'https://customer-access.dev/problems/service-unavailable',
      title: 'Service unavailable',
      status: 503,
      code: 'service_unavailable',
    });
  });
});
