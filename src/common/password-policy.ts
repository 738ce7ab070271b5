import { randomBytes } from 'node:crypto';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary as commonDictionary } from '@zxcvbn-ts/language-common';
import { dictionary as englishDictionary, translations } from '@zxcvbn-ts/language-en';
import { ValidationFailedError } from './errors';

/**
 * zxcvbn's score runs from 0 to 4; 3 means "safely unguessable: moderate protection from an
 * offline slow-hash scenario" (about 10^8 guesses), which suits an argon2id store.
 */
export const MIN_PASSWORD_SCORE = 3;

/** A local part this short ("a@x.io") is too common a substring to refuse on its own. */
const MIN_LOCAL_PART_TO_REFUSE = 3;

/**
 * The estimator runs on the event loop and its cost grows fast with length and look-alike
 * characters (seconds of CPU for a 256-character password of look-alikes): it judges the first
 * 40 characters and tries fewer look-alike substitutions, which makes the same inputs ten times
 * cheaper or more (bench/RESULTS.md, "Costs behind code comments", has both). That is
 * conservative: a prefix is never stronger than the whole password.
 */
const ESTIMATED_LENGTH = 40;
const L33T_MAX_SUBSTITUTIONS = 30;

// Built on first use, so that only a process that checks a password loads the dictionaries (the
// same section of bench/RESULTS.md measures the load).
let estimator: ZxcvbnFactory | undefined;
const zxcvbn = (): ZxcvbnFactory =>
  (estimator ??= new ZxcvbnFactory({
    translations,
    graphs: adjacencyGraphs,
    dictionary: { ...commonDictionary, ...englishDictionary },
    maxLength: ESTIMATED_LENGTH,
    l33tMaxSubstitutions: L33T_MAX_SUBSTITUTIONS,
  }));

/** Who the password is for: their email and name are the first guesses of anyone who knows them. */
export interface PasswordOwner {
  email: string;
  name?: string;
}

/**
 * Why the password is too weak for its owner, or null when it is strong enough. Refuses a password
 * that contains the owner's email or its local part outright, and otherwise asks the estimator with
 * the owner's details as a user dictionary.
 */
export function passwordWeakness(password: string, owner: PasswordOwner): string | null {
  const email = owner.email.trim().toLowerCase();
  const localPart = email.split('@')[0];
  const lowered = password.toLowerCase();
  if (
    lowered.includes(email) ||
    (localPart.length >= MIN_LOCAL_PART_TO_REFUSE && lowered.includes(localPart))
  ) {
    return 'must not contain the email address or its local part.';
  }
  const inputs = [email, localPart, ...email.split(/[@.+_-]/), ...(owner.name?.split(/\s+/) ?? [])]
    .map((input) => input.trim())
    .filter((input) => input.length > 0);
  if (owner.name) inputs.push(owner.name);
  const { score, feedback } = zxcvbn().check(password, inputs);
  if (score >= MIN_PASSWORD_SCORE) return null;
  const advice = [feedback.warning, ...feedback.suggestions].filter(Boolean).join(' ');
  return `is too easy to guess (strength ${score} of 4, ${MIN_PASSWORD_SCORE} needed).${advice ? ` ${advice}` : ''}`;
}

/** Throws 400 `validation_failed` naming `field` when the password is too weak for its owner. */
export function assertStrongPassword(password: string, owner: PasswordOwner, field: string): void {
  const weakness = passwordWeakness(password, owner);
  if (weakness === null) return;
  throw new ValidationFailedError(
    [{ field, message: weakness }],
    `The ${field} is too weak: it ${weakness}`,
  );
}

/** A random password (144 bits) that also passes the policy for its owner. */
export function generatePassword(owner: PasswordOwner): string {
  for (;;) {
    const password = randomBytes(18).toString('base64url');
    if (passwordWeakness(password, owner) === null) return password;
  }
}
