import { Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.module';

interface Window {
  failures: number;
  resetAt: number;
}

/**
 * Counts failed logins per email and per client IP in a fixed window. An IP gets four times the
 * allowance of an email, since many staff can share one office address. Kept in memory: each
 * instance counts on its own, which bounds guessing per instance without a shared store.
 */
@Injectable()
export class LoginThrottle {
  private readonly windows = new Map<string, Window>();
  private readonly windowMs: number;

  constructor(@InjectConfig() private readonly config: AppConfig) {
    this.windowMs = config.loginWindowSeconds * 1000;
  }

  /** Seconds until the caller may try again, or 0 when it may try now. */
  retryAfter(email: string, ip: string, now = Date.now()): number {
    const blocked = [
      [this.windows.get(`email:${email}`), this.config.loginMaxFailures],
      [this.windows.get(`ip:${ip}`), this.config.loginMaxFailures * 4],
    ] as const;
    let wait = 0;
    for (const [window, max] of blocked) {
      if (window && window.resetAt > now && window.failures >= max) {
        wait = Math.max(wait, Math.ceil((window.resetAt - now) / 1000));
      }
    }
    return wait;
  }

  recordFailure(email: string, ip: string, now = Date.now()): void {
    this.bump(`email:${email}`, now);
    this.bump(`ip:${ip}`, now);
    if (this.windows.size > 10_000) this.sweep(now);
  }

  recordSuccess(email: string): void {
    this.windows.delete(`email:${email}`);
  }

  private bump(key: string, now: number): void {
    const window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      this.windows.set(key, { failures: 1, resetAt: now + this.windowMs });
    } else {
      window.failures += 1;
    }
  }

  private sweep(now: number): void {
    for (const [key, window] of this.windows) {
      if (window.resetAt <= now) this.windows.delete(key);
    }
  }
}
