import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiProblemResponses } from '../common/api-problem-responses';
import type { Actor, Origin } from '../access/actor';
import {
  CurrentActor,
  Public,
  RequestOrigin,
  Roles,
  signInOrigin,
} from '../access/access.decorators';
import { AuthService } from './auth.service';
import { ChangePasswordDto, LoginDto, LoginResponseDto } from './dto/login.dto';
import { StaffUserDto } from './dto/staff-user.dto';
import { UsersService } from './users.service';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly users: UsersService,
  ) {}

  @Post('login')
  @Public()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Sign in as a staff member and receive a bearer token',
    description:
      'Each password checked is recorded in the audit log with the IP: `auth.login_succeeded`, ' +
      'or `auth.login_failed` naming the email tried (never the password).',
  })
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiProblemResponses(400, [401, 'Wrong email or password (`invalid_credentials`)'], 429)
  login(@Body() body: LoginDto, @Req() request: FastifyRequest): Promise<LoginResponseDto> {
    return this.auth.login(body.email, body.password, signInOrigin(request));
  }

  @Get('me')
  @Roles('user')
  @ApiOperation({ summary: 'The signed-in staff member' })
  @ApiOkResponse({ type: StaffUserDto })
  me(@CurrentActor() actor: Actor): Promise<StaffUserDto> {
    return this.users.get(actor.id);
  }

  @Post('logout')
  @Roles('user')
  @HttpCode(204)
  @ApiOperation({
    summary: 'Sign out: end every session of the signed-in staff member',
    description:
      'Every token issued to this user so far is refused from the next request on, on every ' +
      'instance: on every device, not only this one.',
  })
  @ApiNoContentResponse({ description: 'Signed out' })
  logout(@CurrentActor() actor: Actor): Promise<void> {
    return this.auth.logout(actor.id);
  }

  @Post('password')
  @Roles('user')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Change your own password',
    description:
      'Needs the current password. Every earlier token of the user is revoked (all sessions ' +
      'end); the answer carries a fresh token for this one. A wrong current password answers ' +
      '`401 invalid_credentials` and counts against the login throttle.',
  })
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiProblemResponses(
    [400, 'Validation failed, or the new password is too weak (`validation_failed`)'],
    [401, 'Wrong current password (`invalid_credentials`)'],
    429,
  )
  changePassword(
    @RequestOrigin() origin: Origin,
    @Body() body: ChangePasswordDto,
  ): Promise<LoginResponseDto> {
    return this.auth.changePassword(
      origin.actor.id!,
      body.current_password,
      body.new_password,
      origin,
    );
  }
}
