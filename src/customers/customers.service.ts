import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { ConflictError, NotFoundError } from '../common/errors';
import { KeysetColumn, keysetPage, Page } from '../common/pagination';
import { isUniqueViolation } from '../database/postgres-errors';
import { CustomerDto } from './dto/customer.dto';
import {
  CreateCustomerDto,
  ListCustomersQueryDto,
  UpdateCustomerDto,
} from './dto/customer-input.dto';
import { Customer } from './entities/customer.entity';
import { UnitOfWork } from '../database/unit-of-work';

const NEWEST_FIRST: KeysetColumn<Customer>[] = [
  { expression: 'c.created_at', cast: 'timestamptz', value: (c) => c.createdAt.toISOString() },
  { expression: 'c.id', cast: 'uuid', value: (c) => c.id },
];

// Review of disabled customers: longest disabled first.
const LONGEST_DISABLED_FIRST: KeysetColumn<Customer>[] = [
  {
    expression: 'c.disabled_at',
    cast: 'timestamptz',
    value: (c) => (c.disabledAt ?? c.createdAt).toISOString(),
  },
  { expression: 'c.id', cast: 'uuid', value: (c) => c.id },
];

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (ch) => `\\${ch}`);

@Injectable()
export class CustomersService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
  ) {}

  private get customers() {
    return this.txHost.tx.getRepository(Customer);
  }

  async create(input: CreateCustomerDto): Promise<CustomerDto> {
    try {
      const customer = await this.customers.save(
        this.customers.create({
          email: input.email,
          name: input.name ?? null,
          reference: input.reference ?? null,
          externalReference: input.external_reference ?? null,
        }),
      );
      return CustomerDto.from(customer);
    } catch (error) {
      throw this.translate(error, input.email);
    }
  }

  async get(id: string): Promise<CustomerDto> {
    return CustomerDto.from(await this.findOrFail(id));
  }

  /**
   * The customer entity, for other modules' use cases; 404 when unknown. `lock` holds the row
   * until the transaction ends: `pessimistic_write` to change it, `pessimistic_read` to keep it
   * from changing meanwhile.
   */
  async findOrFail(id: string, lock?: 'pessimistic_write' | 'pessimistic_read'): Promise<Customer> {
    const customer = await this.customers.findOne({
      where: { id },
      ...(lock ? { lock: { mode: lock } } : {}),
    });
    if (!customer) throw new NotFoundError('Customer', id);
    return customer;
  }

  list(query: ListCustomersQueryDto): Promise<Page<CustomerDto>> {
    const qb = this.customers.createQueryBuilder('c');
    const review = query.status === 'disabled' || query.disabled_before !== undefined;
    if (query.disabled_before !== undefined) {
      qb.andWhere(`c.status = 'disabled' AND c.disabled_at < :before`, {
        before: query.disabled_before,
      });
    }
    if (query.status) qb.andWhere('c.status = :status', { status: query.status });
    if (query.email) qb.andWhere('c.email = :email', { email: query.email });
    if (query.q) {
      qb.andWhere(
        `(c.email ILIKE :q OR c.name ILIKE :q OR c.reference ILIKE :q OR c.external_reference ILIKE :q)`,
        { q: `%${escapeLike(query.q)}%` },
      );
    }
    return review
      ? keysetPage(qb, LONGEST_DISABLED_FIRST, 'ASC', query, CustomerDto.from)
      : keysetPage(qb, NEWEST_FIRST, 'DESC', query, CustomerDto.from);
  }

  update(id: string, input: UpdateCustomerDto): Promise<CustomerDto> {
    return this.unitOfWork.run(() => this.applyUpdate(id, input));
  }

  private async applyUpdate(id: string, input: UpdateCustomerDto): Promise<CustomerDto> {
    const customer = await this.findOrFail(id, 'pessimistic_write');
    if (input.email !== undefined) customer.email = input.email;
    if (input.name !== undefined) customer.name = input.name;
    if (input.reference !== undefined) customer.reference = input.reference;
    if (input.external_reference !== undefined) {
      customer.externalReference = input.external_reference;
    }
    try {
      return CustomerDto.from(await this.customers.save(customer));
    } catch (error) {
      throw this.translate(error, customer.email);
    }
  }

  private translate(error: unknown, email: string): unknown {
    if (isUniqueViolation(error, 'uq_customers_email')) {
      return new ConflictError('customer_exists', `A customer with email ${email} already exists.`);
    }
    return error;
  }
}
