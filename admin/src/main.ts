import './styles.css';
import {
  api,
  onSessionExpired,
  roleAtLeast,
  session,
  SessionExpiredError,
  errorMessage,
} from './api';
import type { StaffUser } from './api';
import { byId, h, replaceChildren } from './dom';
import { auditLogView } from './views/audit-log';
import { customerListView } from './views/customer-list';
import { customerProfileView } from './views/customer-profile';
import type { Shell } from './views/shell';
import { signInView } from './views/sign-in';

const main = byId('main');
const alertRegion = byId('alert');
const noticeRegion = byId('notice');
const account = byId('account');
const nav = byId('nav');

let me: StaffUser | null = null;
/** Counts renders: a view whose number is no longer the latest was navigated away from. */
let renders = 0;

function showAlert(message: string): void {
  // Emptied first so that the same message twice is announced twice.
  alertRegion.textContent = '';
  window.setTimeout(() => {
    alertRegion.textContent = message;
  }, 50);
}

function clearMessages(): void {
  alertRegion.textContent = '';
  noticeRegion.textContent = '';
}

function showError(whatFailed: string, error: unknown): void {
  // After a 401 the sign-in form is already up with its own message.
  if (error instanceof SessionExpiredError) return;
  showAlert(`${whatFailed}. ${errorMessage(error)}`);
}

function announce(message: string, options: { focus?: boolean } = {}): void {
  alertRegion.textContent = '';
  noticeRegion.textContent = message;
  if (options.focus) noticeRegion.focus();
}

function renderAccount(): void {
  nav.hidden = me === null;
  // The audit log is for account managers and above.
  byId('nav-audit').hidden = me === null || !roleAtLeast(me.role, 'account_manager');
  if (!me) {
    account.replaceChildren();
    return;
  }
  replaceChildren(
    account,
    h('span', { class: 'account-name' }, `Signed in as ${me.name} (${me.role.replace('_', ' ')})`),
    h('button', { type: 'button', class: 'button-secondary', onclick: signOut }, 'Sign out'),
  );
}

function mount(view: HTMLElement, title: string): void {
  main.removeAttribute('aria-busy');
  main.replaceChildren(view);
  document.title = `${title} · customer-access admin`;
  const heading = view.querySelector<HTMLElement>('h1');
  (heading ?? main).focus();
}

function showSignIn(message?: string): void {
  renders += 1;
  me = null;
  renderAccount();
  mount(
    signInView({
      onSignedIn: (user) => {
        me = user;
        void render();
      },
      showError,
      clearMessages,
    }),
    'Sign in',
  );
  if (message) showAlert(message);
}

function signOut(): void {
  session.clear();
  showSignIn();
  announce('You are signed out.');
}

type Route =
  | { view: 'list'; params: URLSearchParams }
  | { view: 'customer'; id: string }
  | { view: 'audit'; params: URLSearchParams };

function currentRoute(): Route {
  const hash = window.location.hash.replace(/^#/, '');
  const [path, query = ''] = hash.split('?', 2);
  const customer = /^\/customers\/([^/]+)$/.exec(path);
  if (customer) return { view: 'customer', id: decodeURIComponent(customer[1]) };
  if (path === '/audit') return { view: 'audit', params: new URLSearchParams(query) };
  return { view: 'list', params: new URLSearchParams(query) };
}

async function render(): Promise<void> {
  renders += 1;
  const ticket = renders;
  if (!session.token()) {
    showSignIn();
    return;
  }
  clearMessages();
  main.setAttribute('aria-busy', 'true');
  try {
    const who = me ?? (await api.me());
    if (ticket !== renders) return;
    me = who;
    renderAccount();
    const shell: Shell = {
      me: who,
      showError,
      announce,
      clearMessages,
      isCurrent: () => ticket === renders,
    };
    const route = currentRoute();
    const { element, title } =
      route.view === 'customer'
        ? await customerProfileView(route.id, shell)
        : route.view === 'audit'
          ? await auditLogView(route.params, shell)
          : await customerListView(route.params, shell);
    if (ticket !== renders) return;
    mount(element, title);
  } catch (error) {
    if (ticket !== renders) return;
    main.removeAttribute('aria-busy');
    showError('Could not show the page', error);
  }
}

onSessionExpired((message) => showSignIn(message));
window.addEventListener('hashchange', () => void render());
byId('skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
void render();
