import { EventStreamParser, type StreamEvent } from '../src/event-stream';

function parse(chunks: string[]): { events: StreamEvent[]; comments: number; lastId?: string } {
  const events: StreamEvent[] = [];
  let comments = 0;
  const parser = new EventStreamParser(
    (event) => events.push(event),
    () => (comments += 1),
  );
  for (const chunk of chunks) parser.push(chunk);
  return { events, comments, lastId: parser.lastEventId };
}

describe('EventStreamParser', () => {
  const text =
    'retry: 1000\n\n' +
    'id: i:1\nevent: changed\ndata: {"customer_id":"c1"}\n\n' +
    ': change feed not live\n\n' +
    'id: i:1\nevent: heartbeat\ndata: {"at":"x"}\n\n';

  it('reads events, ids and comments, however the text is cut into chunks', () => {
    const whole = parse([text]);
    expect(whole.events).toEqual([
      { id: 'i:1', event: 'changed', data: '{"customer_id":"c1"}' },
      { id: 'i:1', event: 'heartbeat', data: '{"at":"x"}' },
    ]);
    expect(whole.comments).toBe(1);
    expect(whole.lastId).toBe('i:1');
    for (let size = 1; size < 12; size += 1) {
      const chunks = text.match(new RegExp(`[\\s\\S]{1,${size}}`, 'g'))!;
      expect(parse(chunks)).toEqual(whole);
    }
  });

  it('takes CR LF and CR line ends, joins data lines, keeps the id across events', () => {
    const { events } = parse([
      'id: 7\r\nevent: a\r\ndata: one\r\ndata: two\r',
      '\n\r\n',
      'data:x\r\r',
    ]);
    expect(events).toEqual([
      { id: '7', event: 'a', data: 'one\ntwo' },
      { id: '7', event: 'message', data: 'x' },
    ]);
  });

  it('waits for the blank line: a cut-off event is not dispatched', () => {
    expect(parse(['event: changed\ndata: {"customer_id":"c1"}\n']).events).toEqual([]);
  });
});
