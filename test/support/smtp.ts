import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { eventually } from './holds';

/** One message as the server accepted (or refused) it, decoded enough to read. */
export interface ReceivedMail {
  /** Envelope recipients. */
  to: string[];
  from: string;
  /** Header names in lower case, values unfolded. */
  headers: Record<string, string>;
  subject: string;
  text: string;
  html: string;
  /** The message as it came over the wire. */
  raw: string;
}

/** What the server answers to DATA for a recipient: accept, refuse with an error, or never answer. */
export type SmtpAnswer = 'accept' | 'refuse' | 'hang';

/**
 * A real SMTP server on loopback (smtp-server on npm), no TLS, any login accepted. It keeps what
 * it accepted and what it refused; `refuse(recipient, n)` makes it answer the next n messages to
 * that recipient with `451`, `hang(recipient)` makes it read a message and never answer.
 */
export interface TestSmtpServer {
  port: number;
  url: string;
  accepted: ReceivedMail[];
  refused: ReceivedMail[];
  /** Messages whose answer is held back (`hang`). */
  held: ReceivedMail[];
  /** Logins as the server saw them. */
  logins: { username: string; password: string }[];
  /** While set, every login is refused with this message (`535`); null: any login is accepted. */
  authFailure: string | null;
  refuse(recipient: string, times: number): void;
  hang(recipient: string): void;
  /** Accepted messages to `recipient`. */
  to(recipient: string): ReceivedMail[];
  /** Waits until `count` messages to `recipient` were accepted, and answers them. */
  waitFor(recipient: string, count?: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export async function startSmtpServer(port = 0): Promise<TestSmtpServer> {
  const accepted: ReceivedMail[] = [];
  const refused: ReceivedMail[] = [];
  const held: ReceivedMail[] = [];
  const refusals = new Map<string, number>();
  const hanging = new Set<string>();
  const logins: { username: string; password: string }[] = [];
  let authFailure: string | null = null;

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    // A test's close must not wait the default 30 s for a connection it left open.
    closeTimeout: 500,
    // Loopback, no TLS: a login in clear is what a test of credentials needs.
    allowInsecureAuth: true,
    onAuth(auth, _session, callback) {
      logins.push({ username: auth.username ?? '', password: auth.password ?? '' });
      if (authFailure === null) callback(null, { user: auth.username });
      else callback(Object.assign(new Error(authFailure), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const mail = parseMail(
          Buffer.concat(chunks).toString('utf8'),
          (session.envelope.rcptTo ?? []).map((r) => r.address.toLowerCase()),
          session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        );
        const answer = answerFor(mail.to);
        if (answer === 'hang') {
          held.push(mail);
          return;
        }
        if (answer === 'refuse') {
          refused.push(mail);
          const error = new Error('Mailbox busy, try again later') as Error & {
            responseCode: number;
          };
          error.responseCode = 451;
          callback(error);
          return;
        }
        accepted.push(mail);
        callback(null, 'Queued');
      });
    },
  });

  function answerFor(recipients: string[]): SmtpAnswer {
    for (const recipient of recipients) {
      if (hanging.has(recipient)) return 'hang';
      const left = refusals.get(recipient) ?? 0;
      if (left > 0) {
        refusals.set(recipient, left - 1);
        return 'refuse';
      }
    }
    return 'accept';
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const actualPort = (server.server.address() as AddressInfo).port;
  const to = (recipient: string) => accepted.filter((m) => m.to.includes(recipient.toLowerCase()));

  return {
    port: actualPort,
    url: `smtp://127.0.0.1:${actualPort}`,
    accepted,
    refused,
    held,
    logins,
    get authFailure() {
      return authFailure;
    },
    set authFailure(message: string | null) {
      authFailure = message;
    },
    refuse: (recipient, times) => refusals.set(recipient.toLowerCase(), times),
    hang: (recipient) => hanging.add(recipient.toLowerCase()),
    to,
    waitFor: (recipient, count = 1, timeoutMs = 10_000) =>
      eventually(
        () => Promise.resolve(to(recipient).length >= count ? to(recipient) : undefined),
        timeoutMs,
        `${count} email(s) to ${recipient}`,
      ),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Just enough MIME for what nodemailer sends here: headers, then either one part or a
 * multipart/alternative of text and HTML, each 7bit, quoted-printable or base64.
 */
export function parseMail(raw: string, to: string[], from: string): ReceivedMail {
  const { headers, body } = splitHeaders(raw);
  let text = '';
  let html = '';
  const boundary = /boundary="?([^";]+)"?/i.exec(headers['content-type'] ?? '')?.[1];
  const parts = boundary
    ? body
        .split(`--${boundary}`)
        .slice(1)
        .filter((part) => !part.startsWith('--'))
        .map((part) => splitHeaders(part.replace(/^\r?\n/, '')))
    : [{ headers, body }];
  for (const part of parts) {
    const decoded = decodeBody(part.body, part.headers['content-transfer-encoding']);
    const type = part.headers['content-type'] ?? 'text/plain';
    if (type.startsWith('text/html')) html = decoded;
    else if (type.startsWith('text/plain')) text = decoded;
  }
  return { to, from, headers, subject: decodeWords(headers.subject ?? ''), text, html, raw };
}

function splitHeaders(raw: string): { headers: Record<string, string>; body: string } {
  const end = raw.search(/\r?\n\r?\n/);
  const head = end === -1 ? raw : raw.slice(0, end);
  const body = end === -1 ? '' : raw.slice(end).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function decodeBody(body: string, encoding = '7bit'): string {
  switch (encoding.toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return decodeQuotedPrintable(body);
    default:
      return body.replace(/\r\n/g, '\n');
  }
}

function decodeQuotedPrintable(body: string): string {
  const joined = body.replace(/=\r?\n/g, '').replace(/\r\n/g, '\n');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i += 1) {
    const hex = joined.slice(i + 1, i + 3);
    if (joined[i] === '=' && /^[0-9A-F]{2}$/i.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i], 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words, as nodemailer writes a subject that is not plain ASCII. */
function decodeWords(value: string): string {
  return value.replace(
    /=\?([^?]+)\?([BQ])\?([^?]*)\?=\s*/gi,
    (_match, _charset: string, kind: string, data: string) =>
      kind.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')),
  );
}
