import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import { NotFoundError } from '../common/errors';
import { creationOrder, KeysetColumn, keysetPage, Page } from '../common/pagination';
import { asConflict } from '../common/postgres-errors';
import { CustomerExistsError } from './customers.errors';
import { CustomerDto } from './dto/customer.dto';
import {
  CreateCustomerDto,
  ListCustomersQueryDto,
  UpdateCustomerDto,
} from './dto/customer-input.dto';
import { Customer } from './entities/customer.entity';
import { UnitOfWork } from '../database/unit-of-work';
import { Clock } from '../common/clock';
import { accessFrom, CustomerAccessReader } from './access/customer-access-reader';
import { holdsInPlaySql } from './access/holds-in-play';
import { Hold, holdFromRow } from './entities/hold.entity';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { hydrate } from '../database/hydrate';
import { pgPoolOf, statementName } from '../database/pg-pool';

const NEWEST_FIRST = creationOrder<Customer>('c');

// Review of disabled customers: longest disabled first.
const LONGEST_DISABLED_FIRST: KeysetColumn<Customer>[] = [
  {
    expression: 'c.disabled_at',
    cast: 'timestamptz',
    value: (c) => (c.disabledAt ?? c.createdAt).toISOString(),
  },
  { expression: 'c.id', cast: 'uuid', value: (c) => c.id },
];

/**
 * Told, inside the transaction of a change of `dunning_exempt`, after it is saved: the dunning
 * rules (which depend on this module, not the other way round) re-evaluate the customer there.
 */
export type DunningExemptListener = (customerId: string) => Promise<unknown>;

/**
 * A customer with the holds that matter at $2 (holdsInPlaySql, by start, then id, as toDtos
 * reads them): its lifted and expired history is not read (GET /customers/{id}/holds pages it).
 */
const CUSTOMER_WITH_HOLDS = `
  SELECT c.*,
         (SELECT json_agg(p ORDER BY p.starts_at, p.id)
            FROM (${holdsInPlaySql('$1::uuid', '$2')}) p) AS holds_as_json
    FROM customers c
   WHERE c.id = $1`;

const escapeLike = (text: string) => text.replace(/[\\%_]/g, (ch) => `\\${ch}`);

@Injectable()
export class CustomersService {
  private readonly exemptListeners: DunningExemptListener[] = [];

  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly access: CustomerAccessReader,
    private readonly clock: Clock,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  /** Called by the dunning module at init. */
  onDunningExemptChanged(listener: DunningExemptListener): void {
    this.exemptListeners.push(listener);
  }

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
      return CustomerDto.from(customer, accessFrom([], this.clock.now()));
    } catch (error) {
      throw this.translate(error, input.email);
    }
  }

  /**
   * The customer as answered. Outside a transaction (the route) in one statement straight
   * through `pg`, the customer and its holds together: staff read customers often, and the
   * ORM's two queries cost several times this one.
   */
  async get(id: string): Promise<CustomerDto> {
    if (this.txHost.isTransactionActive()) {
      return (await this.toDtos([await this.findOrFail(id)]))[0];
    }
    const now = this.clock.now();
    const { customer, holds } = await this.readWithHolds(id, now);
    return CustomerDto.from(customer, accessFrom(holds, now));
  }

  /**
   * The customer and its holds in play at `now` (by start, then id), as committed when the
   * statement starts: one statement straight through `pg`, on the primary, outside any
   * transaction and with no lock. 404 when there is no such customer.
   */
  async readWithHolds(id: string, now: Date): Promise<{ customer: Customer; holds: Hold[] }> {
    const { rows } = await pgPoolOf(this.dataSource).query<Record<string, unknown>>({
      name: statementName(this.dataSource, 'customer_with_holds'),
      text: CUSTOMER_WITH_HOLDS,
      values: [id, now.toISOString()],
    });
    if (rows.length === 0) throw new NotFoundError('Customer', id);
    const { holds_as_json: holdsJson, ...row } = rows[0];
    return {
      customer: hydrate(this.dataSource, Customer, row),
      holds: ((holdsJson as Record<string, unknown>[] | null) ?? []).map(holdFromRow),
    };
  }

  /**
   * The customers as answered: status, reason and holds derived from their holds at the clock's
   * now (one query for all of them), so an answer is right at a hold's boundary even before the
   * scheduler rewrote the stored projection.
   */
  async toDtos(customers: Customer[]): Promise<CustomerDto[]> {
    const now = this.clock.now();
    const holds = await this.access.holdsOf(
      customers.map((c) => c.id),
      now,
    );
    const byCustomer = new Map<string, Hold[]>();
    for (const hold of holds) {
      const list = byCustomer.get(hold.customerId) ?? [];
      list.push(hold);
      byCustomer.set(hold.customerId, list);
    }
    return customers.map((customer) =>
      CustomerDto.from(customer, accessFrom(byCustomer.get(customer.id) ?? [], now)),
    );
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

  async list(query: ListCustomersQueryDto): Promise<Page<CustomerDto>> {
    const qb = this.customers.createQueryBuilder('c');
    if (query.review_due) {
      qb.andWhere(
        `c.status = 'disabled' AND EXISTS (
           SELECT 1 FROM holds h
            WHERE h.customer_id = c.id AND h.lifted_at IS NULL AND h.review_at <= :now
              AND h.starts_at <= :now AND (h.ends_at IS NULL OR h.ends_at > :now))`,
        { now: this.clock.now().toISOString() },
      );
    }
    const review =
      query.status === 'disabled' ||
      query.disabled_before !== undefined ||
      query.review_due === true;
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
    const page = review
      ? await keysetPage(qb, LONGEST_DISABLED_FIRST, 'ASC', query, (c) => c)
      : await keysetPage(qb, NEWEST_FIRST, 'DESC', query, (c) => c);
    return { data: await this.toDtos(page.data), next_cursor: page.next_cursor };
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
    const exemptChanged =
      input.dunning_exempt !== undefined && input.dunning_exempt !== customer.dunningExempt;
    if (input.dunning_exempt !== undefined) customer.dunningExempt = input.dunning_exempt;
    let saved: Customer;
    try {
      saved = await this.customers.save(customer);
    } catch (error) {
      throw this.translate(error, customer.email);
    }
    if (exemptChanged) {
      for (const listener of this.exemptListeners) await listener(id);
      // The rules may have changed its holds (and saved it) meanwhile.
      saved = await this.findOrFail(id);
    }
    return (await this.toDtos([saved]))[0];
  }

  private translate(error: unknown, email: string): unknown {
    return asConflict(error, 'uq_customers_email', new CustomerExistsError(email));
  }
}
