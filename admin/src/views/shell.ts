import type { StaffUser } from '../api';

/** What a view may ask of the page around it. */
export interface Shell {
  /** The signed-in staff member (GET /auth/me): its role decides what the view offers. */
  me: StaffUser;
  /** Shows a failed call in the alert region: "<what failed>. <what the service said>". */
  showError: (whatFailed: string, error: unknown) => void;
  /**
   * Says what just happened, politely (the status region). With `focus`, the region takes focus
   * too: after an action whose button changes meaning, so that the next Enter lands nowhere.
   */
  announce: (message: string, options?: { focus?: boolean }) => void;
  clearMessages: () => void;
  /** False once the user has moved on to another view: late answers must not touch the page. */
  isCurrent: () => boolean;
}
