import { QueryFailedError } from 'typeorm';
import { DatabaseUnavailableError } from './errors';
import { describeDatabaseError, isDatabaseUnavailable, isUniqueViolation } from './postgres-errors';

/** An error as `pg` raises it for a server's ErrorResponse, wrapped as TypeORM wraps it. */
const serverError = (code: string, message = 'server said no') =>
  new QueryFailedError('SELECT 1', [], Object.assign(new Error(message), { code }));

describe('isDatabaseUnavailable', () => {
  it.each([
    ['08006 connection failure', serverError('08006')],
    [
      '57P01 admin shutdown',
      serverError('57P01', 'terminating connection due to administrator command'),
    ],
    ['57P03 cannot connect now', serverError('57P03', 'the database system is starting up')],
    ['53300 too many connections', serverError('53300', 'sorry, too many clients already')],
    [
      '57014 statement timeout',
      serverError('57014', 'canceling statement due to statement timeout'),
    ],
    ['55P03 lock timeout', serverError('55P03', 'canceling statement due to lock timeout')],
    [
      'a refused connection',
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    ],
    [
      'a refused connection to a host with two addresses',
      new AggregateError([
        Object.assign(new Error('connect ECONNREFUSED ::1'), { code: 'ECONNREFUSED' }),
      ]),
    ],
    ['no free pooled connection in time', new Error('timeout exceeded when trying to connect')],
    [
      'a connect that timed out',
      new Error('Connection terminated due to connection timeout', {
        cause: new Error('timeout expired'),
      }),
    ],
    [
      'a query that got no answer',
      new QueryFailedError('SELECT 1', [], new Error('Query read timeout')),
    ],
    [
      'a connection that broke',
      new QueryFailedError('SELECT 1', [], new Error('Connection terminated unexpectedly')),
    ],
    ['the readiness check', new DatabaseUnavailableError(new Error('no answer'))],
  ])('is true for %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', serverError('23505', 'duplicate key')],
    ['a syntax error', serverError('42601', 'syntax error')],
    ['a serialization failure', serverError('40001', 'could not serialize access')],
    ['a plain bug', new TypeError('x is undefined')],
    ['nothing', undefined],
  ])('is false for %s', (_, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

describe('describeDatabaseError', () => {
  it('gives the driver code and first line, never the SQL', () => {
    const error = new QueryFailedError(
      'UPDATE customers SET secret = $1',
      ['x'],
      Object.assign(new Error('canceling statement due to lock timeout\nmore'), { code: '55P03' }),
    );
    expect(describeDatabaseError(error)).toBe('55P03 canceling statement due to lock timeout');
    expect(
      describeDatabaseError(new DatabaseUnavailableError(new Error('no answer in 800 ms'))),
    ).toBe('no answer in 800 ms');
  });
});

describe('isUniqueViolation', () => {
  it('still tells a unique violation apart', () => {
    expect(isUniqueViolation(serverError('23505'))).toBe(true);
    expect(isUniqueViolation(serverError('55P03'))).toBe(false);
  });
});
