import { Controller, Get, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PlatformKeyOnly } from '../access/access.decorators';
import { DomainError } from '../common/errors';
import { SECURITY_HEADERS } from '../common/security-headers';
import { AccessStream, MAX_UNREAD_BYTES, REPLAY_EVENTS, STALLED_PERIODS } from './access-stream';

const EXAMPLE = [
  'id: q3Zk1bX9:41',
  'event: changed',
  'data: {"customer_id":"6f1c2a4e-8b0d-4c1e-9a53-2f7d1e0b9c11","at":"2026-11-27T10:00:00.000Z"}',
  '',
  'id: q3Zk1bX9:41',
  'event: heartbeat',
  'data: {"at":"2026-11-27T10:00:01.000Z"}',
  '',
  'id: q3Zk1bX9:42',
  'event: reset',
  'data: {"reason":"everything_changed","at":"2026-11-27T10:00:01.500Z"}',
  '',
].join('\n');

@ApiTags('access')
@Controller('access')
export class AccessStreamController {
  constructor(private readonly stream: AccessStream) {}

  @Get('stream')
  @PlatformKeyOnly()
  @ApiOperation({
    summary: 'Changes to customers’ access, as they commit (server-sent events)',
    description:
      'For a client library that keeps customers’ limits in memory in the customer’s backend. ' +
      'A `text/event-stream` that never ends by itself: `event: changed` with ' +
      '`data: {"customer_id", "at"}` for every committed change to a customer’s access (status, ' +
      'holds, subscriptions, keys) heard by this instance: drop that customer. `event: reset` with ' +
      '`data: {"reason", "at"}`: drop everything (`everything_changed`: a change to many ' +
      'customers; `feed_interrupted`: this instance’s change feed lost or regained its ' +
      'connection; `new_stream`: opened without `Last-Event-ID`; `unknown_event_id`: an id of ' +
      'another instance or from before a restart; `events_expired`: an id older than the ' +
      `${REPLAY_EVENTS} events an instance keeps; \`fell_behind\`: see below). ` +
      '`event: heartbeat` at least every ' +
      '`STREAM_HEARTBEAT_MS` (default 1000 ms), only while this instance hears every change ' +
      '(within `CHANGE_FEED_STALE_MS`): every change heard before it was sent before it, so a ' +
      'client that has had no heartbeat for a while must treat its cache as stale. Ids are ' +
      '`<instance>:<n>`; a heartbeat carries the latest event’s id. Reconnect with ' +
      '`Last-Event-ID` to get what was missed, or a `reset`. Lines starting with `:` are comments ' +
      '(kept alive while the feed is not live). A client more than ' +
      `${MAX_UNREAD_BYTES / 1024} KiB behind gets nothing more until it has read that, then a ` +
      '`reset` (`fell_behind`); one that stays behind for ' +
      `${STALLED_PERIODS} heartbeat periods is disconnected. Streams end when the instance shuts down.`,
  })
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    description: 'The id of the last event received, to resume after it',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({
    description: 'The stream of events (never ends by itself)',
    content: { 'text/event-stream': { schema: { type: 'string', example: EXAMPLE } } },
  })
  open(@Req() request: FastifyRequest, @Res() reply: FastifyReply): void {
    if (this.stream.closing) {
      throw new DomainError(
        'service_unavailable',
        503,
        'Service unavailable',
        'The service is shutting down. Try again.',
        undefined,
        { 'Retry-After': '1' },
      );
    }
    const lastEventId = request.headers['last-event-id'];
    // Written by hand from here on: Fastify's reply (and its onSend hooks) is for whole answers.
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      ...Object.fromEntries(SECURITY_HEADERS),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      // Proxies such as nginx must pass events on as they come, not buffer them.
      'x-accel-buffering': 'no',
      'x-request-id': request.id,
    });
    response.flushHeaders();
    // Nagle's algorithm would hold a small event back for up to 40 ms.
    request.raw.socket.setNoDelay(true);
    this.stream.open(response, typeof lastEventId === 'string' ? lastEventId.trim() : undefined);
  }
}
