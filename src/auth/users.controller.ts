import { Body, Controller, Get, Patch, Post, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { ApiProblemResponses } from '../common/api-problem-responses';
import { Page, PageDtoOf, PageQueryDto } from '../common/pagination';
import { UuidParam } from '../common/validation';
import { RequestOrigin, Roles } from '../access/access.decorators';
import type { Origin } from '../access/actor';
import { StaffUserDto } from './dto/staff-user.dto';
import { CreateUserDto, UpdateUserDto } from './dto/user-input.dto';
import { UsersService } from './users.service';

@ApiTags('users')
@Controller('users')
@Roles('admin')
export class UsersController {
  constructor(private readonly users: UsersService) {}

  @Post()
  @ApiOperation({ summary: 'Create a staff user' })
  @ApiCreatedResponse({ type: StaffUserDto })
  @ApiProblemResponses(
    [400, 'Validation failed, or the password is too weak (`validation_failed`)'],
    [409, 'A user with this email exists (`user_exists`)'],
  )
  create(@Body() body: CreateUserDto, @RequestOrigin() origin: Origin): Promise<StaffUserDto> {
    return this.users.create(body, origin);
  }

  @Get()
  @ApiOperation({ summary: 'List staff users, oldest first' })
  @ApiOkResponse({ type: PageDtoOf(StaffUserDto) })
  @ApiProblemResponses(400)
  list(@Query() page: PageQueryDto): Promise<Page<StaffUserDto>> {
    return this.users.list(page);
  }

  @Patch(':id')
  @ApiOperation({
    summary: 'Change a staff user: name, role, password, or deactivate it',
    description: 'A new password or a deactivation revokes every token of the user.',
  })
  @ApiOkResponse({ type: StaffUserDto })
  @ApiProblemResponses(
    [400, 'Validation failed, or the password is too weak (`validation_failed`)'],
    404,
    [409, 'Would remove the last active admin (`last_admin`)'],
  )
  update(
    @UuidParam() id: string,
    @Body() body: UpdateUserDto,
    @RequestOrigin() origin: Origin,
  ): Promise<StaffUserDto> {
    return this.users.update(id, body, origin);
  }
}
