import type { MigrationInterface } from 'typeorm';
import { Initial1795597058578 } from './1795597058578-Initial';
import { AuditLogs1795600000000 } from './1795600000000-AuditLogs';
import { CustomerNotes1795600001000 } from './1795600001000-CustomerNotes';
import { ApiKeys1795610000000 } from './1795610000000-ApiKeys';
import { PlansAndSubscriptions1795611000000 } from './1795611000000-PlansAndSubscriptions';
import { Billing1795612000000 } from './1795612000000-Billing';
import { StaffTokenVersion1795620000000 } from './1795620000000-StaffTokenVersion';
import { Holds1795630000000 } from './1795630000000-Holds';
import { Events1795640000000 } from './1795640000000-Events';
import { Dunning1795650000000 } from './1795650000000-Dunning';
import { AuditChain1795660000000 } from './1795660000000-AuditChain';
import { HoldsInPlay1795670000000 } from './1795670000000-HoldsInPlay';
import { AuditChainSealAtCommit1795680000000 } from './1795680000000-AuditChainSealAtCommit';
import { AuditEntryHashPlanned1795690000000 } from './1795690000000-AuditEntryHashPlanned';
import { HoldsInPlayFunction1795700000000 } from './1795700000000-HoldsInPlayFunction';
import { LockCustomerFunction1795710000000 } from './1795710000000-LockCustomerFunction';
import { AuditSealByPrimaryKey1795720000000 } from './1795720000000-AuditSealByPrimaryKey';

/**
 * Every migration, in order. A new migration file must be listed here (a test checks that each
 * file of this folder is): an explicit list loads the same way under tsc, node and Jest.
 */
export const migrations: (new () => MigrationInterface)[] = [
  Initial1795597058578,
  AuditLogs1795600000000,
  CustomerNotes1795600001000,
  ApiKeys1795610000000,
  PlansAndSubscriptions1795611000000,
  Billing1795612000000,
  StaffTokenVersion1795620000000,
  Holds1795630000000,
  Events1795640000000,
  Dunning1795650000000,
  AuditChain1795660000000,
  HoldsInPlay1795670000000,
  AuditChainSealAtCommit1795680000000,
  AuditEntryHashPlanned1795690000000,
  HoldsInPlayFunction1795700000000,
  LockCustomerFunction1795710000000,
  AuditSealByPrimaryKey1795720000000,
];
