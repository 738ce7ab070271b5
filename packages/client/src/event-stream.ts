/** One server-sent event. */
export interface StreamEvent {
  /** The `id` field in force when it was dispatched (the last one seen on the stream). */
  id: string | undefined;
  event: string;
  data: string;
}

/**
 * Incremental parser of `text/event-stream` (the WHATWG rules that matter here): lines end in
 * LF, CR LF or CR; a blank line dispatches; `:` starts a comment; `id` persists across events;
 * `data` lines join with LF. Comments are reported separately: they are no proof of anything.
 */
export class EventStreamParser {
  private buffer = '';
  private lastId: string | undefined;
  private type = '';
  private data: string[] = [];
  private sawCr = false;

  constructor(
    private readonly onEvent: (event: StreamEvent) => void,
    private readonly onComment: () => void = () => undefined,
  ) {}

  /** The id a reconnect sends as `Last-Event-ID`. */
  get lastEventId(): string | undefined {
    return this.lastId;
  }

  push(chunk: string): void {
    let text = this.buffer + chunk;
    // A CR LF split across chunks: the LF was already counted with its CR.
    if (this.sawCr && text.startsWith('\n')) text = text.slice(1);
    this.sawCr = false;
    let start = 0;
    for (let i = 0; i < text.length; i += 1) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      this.line(text.slice(start, i));
      if (c === 13) {
        if (i + 1 === text.length) this.sawCr = true;
        else if (text.charCodeAt(i + 1) === 10) i += 1;
      }
      start = i + 1;
    }
    this.buffer = text.slice(start);
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0 || this.type !== '') {
        this.onEvent({
          id: this.lastId,
          event: this.type || 'message',
          data: this.data.join('\n'),
        });
      }
      this.type = '';
      this.data = [];
      return;
    }
    if (line.charCodeAt(0) === 58 /* : */) {
      this.onComment();
      return;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    if (field === 'event') this.type = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.lastId = value;
  }
}
