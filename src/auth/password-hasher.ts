import { Injectable } from '@nestjs/common';
import { Algorithm, hash, verify } from '@node-rs/argon2';

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
  private decoy: Promise<string> | undefined;

  hash(password: string): Promise<string> {
    return hash(password, this.options);
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  }

  /** Spends the time of one verification, for logins whose email is unknown. */
  async verifyDecoy(password: string): Promise<false> {
    this.decoy ??= this.hash('decoy password that no account has');
    await this.verify(await this.decoy, password);
    return false;
  }
}
