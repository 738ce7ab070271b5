import { TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { Injectable } from '@nestjs/common';
import type { Actor } from '../access/actor';
import { creationOrder, keysetPage, Page, PageQueryDto } from '../common/pagination';
import { CustomersService } from '../customers/customers.service';
import { UnitOfWork } from '../database/unit-of-work';
import { NoteDto } from './dto/note.dto';
import { Note } from './entities/note.entity';

const NEWEST_FIRST = creationOrder<Note>('n');

@Injectable()
export class NotesService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly unitOfWork: UnitOfWork,
    private readonly customers: CustomersService,
  ) {}

  private get notes() {
    return this.txHost.tx.getRepository(Note);
  }

  async list(customerId: string, page: PageQueryDto): Promise<Page<NoteDto>> {
    await this.customers.findOrFail(customerId);
    const qb = this.notes
      .createQueryBuilder('n')
      .where('n.customer_id = :customerId', { customerId });
    return keysetPage(qb, NEWEST_FIRST, 'DESC', page, NoteDto.from);
  }

  add(customerId: string, author: Actor, body: string): Promise<NoteDto> {
    return this.unitOfWork.run(async () => {
      await this.customers.findOrFail(customerId);
      return NoteDto.from(await this.insert(customerId, author, body, null));
    });
  }

  /** The reason of an audited change, as a note by its actor; in the caller's transaction. */
  async addForAuditEntry(
    customerId: string,
    author: Actor,
    reason: string,
    auditLogId: string,
  ): Promise<void> {
    await this.insert(customerId, author, reason, auditLogId);
  }

  private insert(
    customerId: string,
    author: Actor,
    body: string,
    auditLogId: string | null,
  ): Promise<Note> {
    return this.notes.save(
      this.notes.create({
        customerId,
        authorType: author.type,
        authorId: author.id,
        authorName: author.name,
        body,
        auditLogId,
      }),
    );
  }
}
