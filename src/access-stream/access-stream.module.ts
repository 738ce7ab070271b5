import { Module } from '@nestjs/common';
import { ChangesModule } from '../changes/changes.module';
import { AccessStream } from './access-stream';
import { AccessStreamController } from './access-stream.controller';

/** `GET /access/stream`: the change feed, as server-sent events for client libraries. */
@Module({
  imports: [ChangesModule],
  controllers: [AccessStreamController],
  providers: [AccessStream],
})
export class AccessStreamModule {}
