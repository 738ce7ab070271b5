import { ApiProperty } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { ActorRefDto } from '../../audit/dto/audit-log.dto';
import type { Note } from '../entities/note.entity';

export const NOTE_MAX_LENGTH = 5000;

export class CreateNoteDto {
  @ApiProperty({ minLength: 1, maxLength: NOTE_MAX_LENGTH, example: 'Called about the invoice.' })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString()
  @MinLength(1)
  @MaxLength(NOTE_MAX_LENGTH)
  body: string;
}

export class NoteDto {
  @ApiProperty({ format: 'uuid' })
  id: string;

  @ApiProperty({ format: 'uuid' })
  customer_id: string;

  @ApiProperty({ type: ActorRefDto })
  author: ActorRefDto;

  @ApiProperty()
  body: string;

  @ApiProperty({
    type: String,
    format: 'uuid',
    nullable: true,
    description: 'The audit entry whose reason this note carries',
  })
  audit_log_id: string | null;

  @ApiProperty({ format: 'date-time' })
  created_at: string;

  static from(this: void, note: Note): NoteDto {
    return {
      id: note.id,
      customer_id: note.customerId,
      author: { type: note.authorType, id: note.authorId, name: note.authorName },
      body: note.body,
      audit_log_id: note.auditLogId,
      created_at: note.createdAt.toISOString(),
    };
  }
}
