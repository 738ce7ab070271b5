import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { ApiProblemResponses } from '../common/api-problem-responses';
import type { Actor } from './actor';
import { CurrentActor, Public, Roles } from './access.decorators';
import { AuthService } from './auth.service';
import { LoginDto, LoginResponseDto } from './dto/login.dto';
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
  @ApiOperation({ summary: 'Sign in as a staff member and receive a bearer token' })
  @ApiOkResponse({ type: LoginResponseDto })
  @ApiProblemResponses(400, [401, 'Wrong email or password (`invalid_credentials`)'], 429)
  login(@Body() body: LoginDto, @Req() request: FastifyRequest): Promise<LoginResponseDto> {
    return this.auth.login(body.email, body.password, request.ip);
  }

  @Get('me')
  @Roles('user')
  @ApiOperation({ summary: 'The signed-in staff member' })
  @ApiOkResponse({ type: StaffUserDto })
  me(@CurrentActor() actor: Actor): Promise<StaffUserDto> {
    return this.users.get(actor.id);
  }
}
