import { Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';

interface Window {
  failures: number;
  resetAt: number;
}

/** A password check that has been counted in advance; settle it once its outcome is known. */
export interface LoginAttempt {
  /** The password was right: the attempt is refunded and the email's failures are forgotten. */
  succeeded(): void;
  /** The password was wrong: the attempt stays counted. */
  failed(): void;
  /** The password could not be checked (busy, database error): the attempt is refunded. */
  abandoned(): void;
}

/** How many times LOGIN_MAX_FAILURES an email (from any IP) and an IP (for any email) may fail. */
export const WIDER_ALLOWANCE = 4;

/**
 * Counts failed logins in fixed windows, at three levels:
 *
 * - per (email, IP): LOGIN_MAX_FAILURES. A guesser at one address is stopped early, and locks
 *   out only itself: the account's owner elsewhere can still sign in;
 * - per email, from any IP: 4x. Bounds a guesser spread over many addresses; reaching it locks
 *   the account out everywhere until the window ends, so it is set well above the first level;
 * - per IP, for any email: 4x, since many staff can share one office address. Bounds spraying
 *   one password over many emails.
 *
 * An attempt is counted as a failure *before* its password is checked and refunded when it was
 * right, so concurrent guesses cannot all pass the check while the first ones are still hashing.
 * Kept in memory: each instance counts on its own, which bounds guessing per instance without a
 * shared store.
 */
@Injectable()
export class LoginThrottle {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;

  constructor(@InjectConfig() private readonly config: AppConfig) {
    this.windowMs = config.loginWindowSeconds * 1000;
  }

  /**
   * Counts the attempt now, or answers how many seconds the caller must wait (no attempt is
   * counted then). Synchronous on purpose: no other request can slip between check and count.
   */
  reserve(email: string, ip: string, now = Date.now()): LoginAttempt | { retryAfter: number } {
    const keys = this.keys(email, ip);
    let wait = 0;
    for (const [key, max] of keys) {
      const window = this.windows.get(key);
      if (window && window.resetAt > now && window.failures >= max) {
        wait = Math.max(wait, Math.ceil((window.resetAt - now) / 1000));
      }
    }
    if (wait > 0) return { retryAfter: wait };

    const counted = keys.map(([key]) => this.bump(key, now));
    if (this.windows.size > 10_000) this.sweep(now);
    let settled = false;
    const refund = (): boolean => {
      if (settled) return false;
      settled = true;
      for (const window of counted) window.failures = Math.max(0, window.failures - 1);
      return true;
    };
    return {
      succeeded: () => {
        if (!refund()) return;
        this.windows.delete(`pair:${email}|${ip}`);
        this.windows.delete(`email:${email}`);
      },
      failed: () => {
        settled = true;
      },
      abandoned: () => void refund(),
    };
  }

  private keys(email: string, ip: string): [string, number][] {
    const max = this.config.loginMaxFailures;
    return [
      [`pair:${email}|${ip}`, max],
      [`email:${email}`, max * WIDER_ALLOWANCE],
      [`ip:${ip}`, max * WIDER_ALLOWANCE],
    ];
  }

  private bump(key: string, now: number): Window {
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { failures: 0, resetAt: now + this.windowMs };
      this.windows.set(key, window);
    }
    window.failures += 1;
    return window;
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) {
      if (window.resetAt <= now) this.windows.delete(key);
    }
  }
}
