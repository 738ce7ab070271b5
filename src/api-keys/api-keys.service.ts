import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { AuditOrigin, AuditWriter } from '../audit/audit-writer';
import { CustomerChanges } from '../changes/customer-changes';
import { NotFoundError } from '../common/errors';
import { creationOrder, keysetPage, Page, PageQueryDto } from '../common/pagination';
import { CustomersService } from '../customers/customers.service';
import { UnitOfWork } from '../database/unit-of-work';
import { displayPrefix, generateApiKey, hashApiKey } from './api-key-format';
import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto';
import { ApiKey } from './entities/api-key.entity';

const NEWEST_FIRST = creationOrder<ApiKey>('k');

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly customers: CustomersService,
    private readonly changes: CustomerChanges,
    private readonly audit: AuditWriter,
  ) {}

  private get keys() {
    return this.txHost.tx.getRepository(ApiKey);
  }

  /**
   * A new key, returned in clear this once. No cache is told: caches hold only keys that
   * exist, never "unknown key" answers, so a new key cannot be shadowed by a stale entry.
   * Recorded as `api_key.created` (its name, customer and display prefix; never the key).
   */
  create(input: CreateApiKeyDto, origin: AuditOrigin): Promise<CreatedApiKeyDto> {
    const createdBy = origin.actor.type === 'user' ? origin.actor.id : null;
    return this.unitOfWork.run(async () => {
      const customerId = input.customer_id ?? null;
      if (customerId !== null) await this.customers.findOrFail(customerId);
      const key = generateApiKey();
      const saved = await this.keys.save(
        this.keys.create({
          name: input.name,
          keyHash: hashApiKey(key),
          prefix: displayPrefix(key),
          customerId,
          createdBy,
          revokedAt: null,
        }),
      );
      await this.audit.append(
        {
          action: 'api_key.created',
          customerId,
          target: { type: 'api_key', id: saved.id },
          before: {},
          after: { name: saved.name, customer_id: customerId, prefix: saved.prefix },
        },
        origin,
      );
      return { ...ApiKeyDto.from(saved), key };
    });
  }

  list(page: PageQueryDto): Promise<Page<ApiKeyDto>> {
    return keysetPage(
      this.keys.createQueryBuilder('k'),
      NEWEST_FIRST,
      'DESC',
      page,
      ApiKeyDto.from,
    );
  }

  /**
   * Revokes a key; the row stays. Every instance drops the key from its cache when this commits,
   * so it is refused from the next request on. Revoking a revoked key changes nothing (and
   * records nothing); a revocation is recorded as `api_key.revoked`.
   */
  revoke(id: string, origin: AuditOrigin): Promise<void> {
    return this.unitOfWork.run(async () => {
      const key = await this.keys.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!key) throw new NotFoundError('API key', id);
      if (key.revokedAt !== null) return;
      key.revokedAt = new Date();
      await this.keys.save(key);
      await this.audit.append(
        {
          action: 'api_key.revoked',
          customerId: key.customerId,
          target: { type: 'api_key', id: key.id },
          before: { state: 'active' },
          after: { state: 'revoked' },
        },
        origin,
      );
      await this.changes.apiKeyRevoked(key.id, key.customerId);
    });
  }
}
