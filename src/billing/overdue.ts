export const DAY_MS = 86_400_000;

/**
 * Whole days since `dueAt`; 0 before it. An invoice's own fact (its DTO shows it), which dunning
 * builds its steps on: it lives with the invoices, below dunning.
 */
export function daysOverdue(dueAt: Date, now: Date): number {
  const ms = now.getTime() - dueAt.getTime();
  return ms <= 0 ? 0 : Math.floor(ms / DAY_MS);
}
