import { EventEmitter } from 'node:events';
import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '../database/unit-of-work';

/** The PostgreSQL channel on which every instance hears of changes to a customer's access. */
export const CUSTOMER_CHANGES_CHANNEL = 'customer_access_changes';
/** On that channel, what marks a revoked API key (`api_key:<key id>`) rather than a customer. */
export const API_KEY_PAYLOAD_PREFIX = 'api_key:';

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

  /** `customerId` null means "anything may have changed" (a plan used by many customers). */
  async changed(customerId: string | null): Promise<void> {
    await this.txHost.tx.query('SELECT pg_notify($1, $2)', [
      CUSTOMER_CHANGES_CHANNEL,
      customerId ?? '*',
    ]);
    this.unitOfWork.afterCommit(() => this.local.emit('change', customerId));
  }

  /**
   * A revoked API key, so that every instance drops it from its key cache, and nothing else:
   * no customer's limits depend on a key. A customer key's revoke is also a change to that
   * customer's access (what the access stream reports); a platform key's is no customer's.
   */
  async apiKeyRevoked(keyId: string, customerId: string | null): Promise<void> {
    await this.txHost.tx.query('SELECT pg_notify($1, $2)', [
      CUSTOMER_CHANGES_CHANNEL,
      API_KEY_PAYLOAD_PREFIX + keyId,
    ]);
    this.unitOfWork.afterCommit(() => this.local.emit('api_key', keyId));
    if (customerId !== null) await this.changed(customerId);
  }

  /** Listens to this instance's own committed changes. Returns the unsubscribe function. */
  onLocalChange(listener: (customerId: string | null) => void): () => void {
    this.local.on('change', listener);
    return () => this.local.off('change', listener);
  }

  /** Listens to this instance's own committed key revokes. Returns the unsubscribe function. */
  onLocalApiKeyRevoked(listener: (keyId: string) => void): () => void {
    this.local.on('api_key', listener);
    return () => this.local.off('api_key', listener);
  }
}
