import { Socket } from 'node:net';

/** One write to a socket: what a round trip to the database sends (DeadlineClient corks a tick). */
export interface SocketWrite {
  socket: Socket;
  /** The bytes, as latin1 text: statement texts and names read as written. */
  text: string;
}

/**
 * Every write to a socket connected to `url`'s server while `action` runs, in order: what its
 * clients sent (not the server's answers, should the server run in this process). A database
 * client that waits for each answer makes a write per statement; one that pipelines makes one
 * for all it sends in a tick.
 */
export async function socketWritesDuring(
  url: string,
  action: () => Promise<unknown>,
): Promise<SocketWrite[]> {
  const port = Number(new URL(url).port || 5432);
  type Write = (this: Socket, ...args: unknown[]) => unknown;
  const prototype = Socket.prototype as unknown as { _write: Write; _writev: Write };
  const single = jest.spyOn(prototype, '_write');
  const vector = jest.spyOn(prototype, '_writev');
  try {
    await action();
    return [
      ...single.mock.calls.map((args, i) => ({
        order: single.mock.invocationCallOrder[i],
        socket: single.mock.contexts[i],
        bytes: bytesOf(args[0]),
      })),
      ...vector.mock.calls.map((args, i) => ({
        order: vector.mock.invocationCallOrder[i],
        socket: vector.mock.contexts[i],
        // Node hands _writev the buffers themselves when all are buffers, else {chunk}s.
        bytes: Buffer.concat(
          (args[0] as unknown[]).map((entry) =>
            bytesOf(Buffer.isBuffer(entry) ? entry : (entry as { chunk: unknown }).chunk),
          ),
        ),
      })),
    ]
      .filter(({ socket }) => socket.remotePort === port)
      .sort((a, b) => a.order - b.order)
      .map(({ socket, bytes }) => ({ socket, text: bytes.toString('latin1') }));
  } finally {
    single.mockRestore();
    vector.mockRestore();
  }
}

/** A chunk written to a socket (a Buffer, or a string from HTTP clients), as bytes. */
function bytesOf(chunk: unknown): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk), 'latin1');
}
