import { Injectable } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';

/**
 * At most this many argon2 computations at once, per process. Each takes 19 MiB and a core for
 * its time (measured in bench/RESULTS.md, "Costs behind code comments"), and they run on libuv's
 * thread pool (4 threads by default), which file and DNS work share: more at once would only
 * queue there, with no bound on memory.
 */
export const MAX_CONCURRENT_HASHES = 4;
/**
 * Logins waiting for a slot beyond this are refused (429, retry in a second) instead of queued:
 * a burst from many addresses, which the per-address throttle does not stop, then cannot build
 * a queue of unbounded memory and latency. The same section of bench/RESULTS.md measures how
 * long a full queue takes to drain.
 */
export const MAX_QUEUED_LOGIN_HASHES = 64;

export class HasherBusyError extends Error {
  constructor() {
    super('Too many password checks are waiting');
    this.name = 'HasherBusyError';
  }
}

/** A counting semaphore whose waiters are served in arrival order. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];

  constructor(size: number) {
    this.free = size;
  }

  async run<T>(task: () => Promise<T>, maxWaiting = Infinity): Promise<T> {
    if (this.free > 0) {
      this.free -= 1;
    } else {
      if (this.waiting.length >= maxWaiting) throw new HasherBusyError();
      // The releasing task hands its slot over directly, so `free` stays 0.
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free += 1;
    }
  }
}

/**
 * argon2id with OWASP's recommended memory-hard parameters (19 MiB, 2 passes). A hash made for
 * a password nobody has lets a login for an unknown email take as long as one with a wrong
 * password, so response times do not tell which emails exist.
 */
@Injectable()
export class PasswordHasher {
  private readonly options = {
    algorithm: Algorithm.Argon2id,
    memoryCost: 19456,
    timeCost: 2,
    parallelism: 1,
  };
  private readonly slots = new Slots(MAX_CONCURRENT_HASHES);
  private decoy: Promise<string> | undefined;

  /** Staff-only callers (creating a user, changing a password): they wait for a slot. */
  hash(password: string): Promise<string> {
    return this.slots.run(() => hash(password, this.options));
  }

  /**
   * Whether the password matches. With `failWhenBusy` (logins) throws HasherBusyError rather
   * than wait behind MAX_QUEUED_LOGIN_HASHES others.
   */
  async verify(
    passwordHash: string,
    password: string,
    options: { failWhenBusy?: boolean } = {},
  ): Promise<boolean> {
    const maxWaiting = options.failWhenBusy ? MAX_QUEUED_LOGIN_HASHES : Infinity;
    return this.slots.run(async () => {
      try {
        return await verify(passwordHash, password);
      } catch {
        return false;
      }
    }, maxWaiting);
  }

  /** Spends the time of one verification, for logins whose email is unknown. */
  async verifyDecoy(password: string, options: { failWhenBusy?: boolean } = {}): Promise<false> {
    this.decoy ??= hash('decoy password that no account has', this.options);
    await this.verify(await this.decoy, password, options);
    return false;
  }
}
