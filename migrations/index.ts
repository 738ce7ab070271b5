import type { MigrationInterface } from 'typeorm';
import { Initial1795597058578 } from './1795597058578-Initial';

/**
 * Every migration, in order. A new migration file must be listed here (a test checks that each
 * file of this folder is): an explicit list loads the same way under tsc, node and Jest.
 */
export const migrations: (new () => MigrationInterface)[] = [Initial1795597058578];
