import { EventEmitter } from 'node:events';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { backendPidOf } from '../database/statement';
import { UnitOfWork } from '../database/unit-of-work';

/** The PostgreSQL channel on which every instance hears of changes to a customer's access. */
export const CUSTOMER_CHANGES_CHANNEL = 'customer_access_changes';
/**
 * Records other than customers that in-process caches keep, announced on the same channel as
 * `<kind>:<id>`, so that a change to one drops only that record: a key's revoke or a staff
 * member's logout is no change to any customer.
 */
export const RECORD_KINDS = ['api_key', 'staff_user'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** The NOTIFY payload announcing a change to one record. */
export const recordPayload = (kind: RecordKind, id: string): string => `${kind}:${id}`;

/** A hold as a committed change left it: what a cache of the access rule's answers reads of it. */
export interface CommittedHold {
  id: string;
  source: string;
  reasonCode: string;
  startsAt: Date;
  endsAt: Date | null;
}

/**
 * What this instance knows of a change it committed to a customer: the server process of the
 * transaction that sent the NOTIFY (this instance's own hearing of the change through LISTEN
 * comes from it, so the two hearings of one commit are told apart from two commits), and, for a
 * change to the customer's holds alone, the holds as committed.
 */
export interface CommittedChange {
  backendPid: number;
  unlifted?: readonly CommittedHold[];
}

/**
 * What this instance knows of a change it committed to a customer's holds alone (not to its
 * subscriptions or plans): enough for a cache to apply it rather than read the customer again.
 */
export interface CommittedHolds extends CommittedChange {
  /** The customer's holds not lifted, as committed (those that ended included). */
  unlifted: readonly CommittedHold[];
}

/**
 * Announces that what a customer may do has changed (status, subscriptions, plans, keys), so
 * that every cache of it, in every instance, is dropped.
 *
 * `changed()` is called inside the transaction making the change: its NOTIFY is delivered by
 * PostgreSQL to every listening instance when, and only if, that transaction commits. This
 * instance is also told directly after the commit, because the embedded engine does not deliver
 * NOTIFY between connections.
 */
@Injectable()
export class CustomerChanges {
  private readonly local = new EventEmitter();

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
  ) {
    this.local.setMaxListeners(0);
  }

  /**
   * `customerId` null means "anything may have changed" (a plan used by many customers). This
   * instance is told with the server process that sends the NOTIFY, so that its feed hears the
   * commit once, not once more when the NOTIFY comes back (CustomerChangeFeed's pairing: the
   * access stream would announce the change twice, and clients ask again for nothing).
   */
  async changed(customerId: string | null): Promise<void> {
    const tx = this.txHost.tx;
    await tx.query('SELECT pg_notify($1, $2)', [CUSTOMER_CHANGES_CHANNEL, customerId ?? '*']);
    const backendPid = customerId === null ? undefined : await backendPidOf(tx);
    const committed: CommittedChange | undefined =
      backendPid === undefined ? undefined : { backendPid };
    this.unitOfWork.afterCommit(() => this.local.emit('change', customerId, committed));
  }

  /**
   * As `changed(customerId)`, for a use case that sends the NOTIFY within a statement of its own
   * (`pg_notify(channel, payload)` among its writes, in the same transaction): returns the
   * arguments, and tells this instance after the commit, with `committed` when the change was to
   * the customer's holds alone.
   */
  changedWithin(
    customerId: string,
    committed?: CommittedHolds,
  ): { channel: string; payload: string } {
    this.unitOfWork.afterCommit(() => this.local.emit('change', customerId, committed));
    return { channel: CUSTOMER_CHANGES_CHANNEL, payload: customerId };
  }

  /**
   * A revoked API key, so that every instance drops it from its key cache, and nothing else:
   * no customer's limits depend on a key. A customer key's revoke is also a change to that
   * customer's access (what the access stream reports); a platform key's is no customer's.
   */
  async apiKeyRevoked(keyId: string, customerId: string | null): Promise<void> {
    await this.recordChanged('api_key', keyId);
    if (customerId !== null) await this.changed(customerId);
  }

  /**
   * A staff member changed (role, name, active, password, token version): every instance drops
   * it from its cache of staff members, so that a revoked token is refused from the next request.
   */
  staffUserChanged(userId: string): Promise<void> {
    return this.recordChanged('staff_user', userId);
  }

  private async recordChanged(kind: RecordKind, id: string): Promise<void> {
    await this.txHost.tx.query('SELECT pg_notify($1, $2)', [
      CUSTOMER_CHANGES_CHANNEL,
      recordPayload(kind, id),
    ]);
    this.unitOfWork.afterCommit(() => this.local.emit(kind, id));
  }

  /**
   * Listens to this instance's own committed changes (with what it knows of each: the server
   * process that sent its NOTIFY, and the holds of a change to them alone). Returns the
   * unsubscribe function.
   */
  onLocalChange(
    listener: (customerId: string | null, committed?: CommittedChange) => void,
  ): () => void {
    this.local.on('change', listener);
    return () => this.local.off('change', listener);
  }

  /** Listens to this instance's own committed changes of `kind`. Returns the unsubscribe function. */
  onLocalRecordChange(kind: RecordKind, listener: (id: string) => void): () => void {
    this.local.on(kind, listener);
    return () => this.local.off(kind, listener);
  }
}
