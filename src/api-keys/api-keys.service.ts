import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { CustomerChanges } from '../changes/customer-changes';
import { NotFoundError } from '../common/errors';
import { KeysetColumn, keysetPage, Page, PageQueryDto } from '../common/pagination';
import { CustomersService } from '../customers/customers.service';
import { UnitOfWork } from '../database/unit-of-work';
import { displayPrefix, generateApiKey, hashApiKey } from './api-key-format';
import { ApiKeyDto, CreateApiKeyDto, CreatedApiKeyDto } from './dto/api-key.dto';
import { ApiKey } from './entities/api-key.entity';

const NEWEST_FIRST: KeysetColumn<ApiKey>[] = [
  { expression: 'k.created_at', cast: 'timestamptz', value: (k) => k.createdAt.toISOString() },
  { expression: 'k.id', cast: 'uuid', value: (k) => k.id },
];

@Injectable()
export class ApiKeysService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly customers: CustomersService,
    private readonly changes: CustomerChanges,
  ) {}

  private get keys() {
    return this.txHost.tx.getRepository(ApiKey);
  }

  /**
   * A new key, returned in clear this once. No cache is told: caches hold only keys that
   * exist, never "unknown key" answers, so a new key cannot be shadowed by a stale entry.
   */
  create(input: CreateApiKeyDto, createdBy: string | null): Promise<CreatedApiKeyDto> {
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
   * so it is refused from the next request on. Revoking a revoked key changes nothing.
   */
  revoke(id: string): Promise<void> {
    return this.unitOfWork.run(async () => {
      const key = await this.keys.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!key) throw new NotFoundError('API key', id);
      if (key.revokedAt !== null) return;
      key.revokedAt = new Date();
      await this.keys.save(key);
      await this.changes.apiKeyRevoked(key.id, key.customerId);
    });
  }
}
