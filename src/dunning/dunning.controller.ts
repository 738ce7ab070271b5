import { Controller, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { Roles } from '../access/access.decorators';
import { DunningRunDto } from './dto/dunning.dto';
import { DunningService } from './dunning.service';

@ApiTags('dunning')
@Controller('dunning')
export class DunningController {
  constructor(private readonly dunning: DunningService) {}

  @Post('runs')
  @Roles('developer')
  @ApiOperation({
    summary: 'Run the dunning rules now',
    description:
      'Evaluates every customer with an open invoice past due or an `overdue` hold: warnings at ' +
      'DUNNING_WARN_DAYS (`invoice.overdue`, once per invoice and step), one `overdue` hold at ' +
      'DUNNING_HOLD_DAYS (never on a dunning-exempt customer, nor again for invoices whose hold a ' +
      'person lifted), and the rules’ own hold lifted once no open invoice is that late. Safe to ' +
      'run while another run goes on; a second run changes nothing.',
  })
  @ApiCreatedResponse({ type: DunningRunDto })
  run(): Promise<DunningRunDto> {
    return this.dunning.run();
  }
}
