/** What a bearer token proved once its signature was checked: who, and for how long. */
export interface VerifiedToken {
  sub: string;
  /** The user's token version the token carries (0 when it carries none). */
  ver: number;
  /** Seconds since the epoch, as in the token; absent when the token has none. */
  exp?: number;
  nbf?: number;
}

/**
 * The bearer tokens whose signature this instance has already checked, by their exact text, so
 * that a staff member's next request skips the HMAC and the parsing (about a tenth of a staff
 * read's CPU). Only what the strategy accepted is ever put here. The token's time bounds are
 * checked again on every use, the way jsonwebtoken checks them (whole seconds of the system clock,
 * no tolerance): a cached token is refused the second verification would refuse it. Everything
 * after the signature (the member, the token version) is the guard's business on every request.
 * Bounded: the least recently used token goes first.
 */
export class VerifiedTokens {
  private readonly tokens = new Map<string, VerifiedToken>();

  constructor(private readonly maxEntries: number) {}

  /** The token's verified content, while it is still in its time bounds at `nowMs`. */
  get(token: string, nowMs: number): VerifiedToken | undefined {
    const verified = this.tokens.get(token);
    if (verified === undefined) return undefined;
    this.tokens.delete(token);
    if (!withinBounds(verified, Math.floor(nowMs / 1000))) return undefined;
    this.tokens.set(token, verified);
    return verified;
  }

  /** Keeps a token whose signature, algorithm and time bounds were just checked. */
  remember(token: string, verified: VerifiedToken): void {
    // Bounds that are not numbers were refused by the verification; kept out all the same.
    if (!isBound(verified.exp) || !isBound(verified.nbf)) return;
    this.tokens.delete(token);
    if (this.tokens.size >= this.maxEntries) {
      this.tokens.delete(this.tokens.keys().next().value as string);
    }
    this.tokens.set(token, Object.freeze({ ...verified }));
  }

  get size(): number {
    return this.tokens.size;
  }
}

function isBound(seconds: unknown): boolean {
  return seconds === undefined || (typeof seconds === 'number' && Number.isFinite(seconds));
}

/** jsonwebtoken's own test: active from `nbf` on, expired from `exp` on. */
function withinBounds(token: VerifiedToken, nowSeconds: number): boolean {
  if (token.nbf !== undefined && token.nbf > nowSeconds) return false;
  return token.exp === undefined || nowSeconds < token.exp;
}
