/** What a template gives: one email, in plain text and in HTML. */
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** Who the email is for, as the customer should see it. */
export interface EmailRecipient {
  /** The customer's name; null: the greeting names nobody. */
  name: string | null;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]);
}

/** One unambiguous form for any reader's time zone: 2026-12-01 00:00 UTC. */
export function formatTime(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/** 4900 minor units of EUR -> "49.00 EUR", with the currency's own decimals (0 for JPY). */
export function formatAmount(minor: number, currency: string): string {
  let digits = 2;
  try {
    digits =
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
        .maximumFractionDigits ?? 2;
  } catch {
    // an unknown currency code: two decimals
  }
  const sign = minor < 0 ? '-' : '';
  const text = String(Math.abs(minor)).padStart(digits + 1, '0');
  const major = digits === 0 ? text : `${text.slice(0, -digits)}.${text.slice(-digits)}`;
  return `${sign}${major} ${currency}`;
}

export function greeting(recipient: EmailRecipient): string {
  const name = recipient.name?.trim();
  return name ? `Hello ${name},` : 'Hello,';
}

/**
 * An email from its subject and paragraphs: the text joins them with blank lines, the HTML
 * escapes every paragraph whole, so that no value a template interpolates (a customer's name, a
 * configured sentence) can carry markup into it.
 */
export function compose(subject: string, paragraphs: string[]): RenderedEmail {
  const text = `${paragraphs.join('\n\n')}\n`;
  const body = paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`).join('\n');
  const html =
    '<!DOCTYPE html>\n<html><head><meta charset="utf-8">' +
    `<title>${escapeHtml(subject)}</title></head>\n` +
    '<body style="font-family: sans-serif; line-height: 1.5; color: #1a1a1a;">\n' +
    `${body}\n</body></html>\n`;
  return { subject, text, html };
}
