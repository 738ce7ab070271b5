import { Body, Controller, Get, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentActor, Roles } from '../access/access.decorators';
import type { Actor } from '../access/actor';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { Page, PageDtoOf, PageQueryDto } from '../common/pagination';
import { UuidParam } from '../common/validation';
import { CreateNoteDto, NoteDto } from './dto/note.dto';
import { NotesService } from './notes.service';

@ApiTags('customers')
@Controller('customers/:id/notes')
export class NotesController {
  constructor(private readonly notes: NotesService) {}

  @Get()
  @Roles('user')
  @ApiOperation({
    summary: 'A customer’s internal notes, newest first',
    description: 'Includes the reasons given when the customer was disabled or enabled.',
  })
  @ApiOkResponse({ type: PageDtoOf(NoteDto) })
  @ApiProblemResponses(400, 404)
  list(@UuidParam() id: string, @Query() page: PageQueryDto): Promise<Page<NoteDto>> {
    return this.notes.list(id, page);
  }

  @Post()
  @Roles('customer_support')
  @ApiOperation({ summary: 'Add an internal note to a customer' })
  @ApiCreatedResponse({ type: NoteDto })
  @ApiProblemResponses(400, 404)
  create(
    @UuidParam() id: string,
    @Body() body: CreateNoteDto,
    @CurrentActor() actor: Actor,
  ): Promise<NoteDto> {
    return this.notes.add(id, actor, body.body);
  }
}
