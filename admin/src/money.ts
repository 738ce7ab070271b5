/**
 * Amounts: the API counts minor units (cents) as integers; staff read and type major units
 * ("49.00 EUR"). Converted with string arithmetic, never through a float, and with the currency's
 * own number of decimals (0 for JPY).
 */

/** How many decimals the currency has (2 when the browser does not know it). */
export function currencyDigits(currency: string): number {
  try {
    return (
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
        .maximumFractionDigits ?? 2
    );
  } catch {
    return 2;
  }
}

/** 4900, "EUR" -> "49.00 EUR". */
export function formatMoney(minor: number, currency: string): string {
  const digits = currencyDigits(currency);
  const sign = minor < 0 ? '-' : '';
  const text = String(Math.abs(minor)).padStart(digits + 1, '0');
  const major = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  return `${sign}${major} ${currency}`;
}

/** "49", "49.5", "49.50" -> 4950 minor units; null when it is not such an amount. */
export function parseMoney(input: string, currency: string): number | null {
  const digits = currencyDigits(currency);
  const text = input.trim().replace(',', '.');
  const pattern = digits === 0 ? /^(\d+)$/ : new RegExp(`^(\\d+)(?:\\.(\\d{1,${digits}}))?$`);
  const match = pattern.exec(text);
  if (!match) return null;
  const minor = Number(`${match[1]}${(match[2] ?? '').padEnd(digits, '0')}`);
  return Number.isSafeInteger(minor) ? minor : null;
}

/** The value a field shows for an amount: "49.00". */
export function moneyInputValue(minor: number, currency: string): string {
  return formatMoney(minor, currency).split(' ')[0];
}
