import { api, session } from '../api';
import type { StaffUser } from '../api';
import { h, pageHeading } from '../dom';

export function signInView(options: {
  onSignedIn: (user: StaffUser) => void;
  showError: (whatFailed: string, error: unknown) => void;
  clearMessages: () => void;
}): HTMLElement {
  const email = h('input', {
    id: 'sign-in-email',
    name: 'email',
    type: 'email',
    autocomplete: 'username',
    required: true,
    maxlength: 320,
  });
  const password = h('input', {
    id: 'sign-in-password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
    maxlength: 256,
  });
  const submit = h('button', { type: 'submit' }, 'Sign in');

  let pending = false;
  const signIn = async () => {
    if (pending) return;
    pending = true;
    submit.textContent = 'Signing in…';
    submit.setAttribute('aria-disabled', 'true');
    try {
      const answer = await api.login(email.value.trim(), password.value);
      session.save(answer.access_token);
      options.clearMessages();
      options.onSignedIn(answer.user);
    } catch (error) {
      options.showError('Could not sign in', error);
      password.value = '';
      password.focus();
    } finally {
      pending = false;
      submit.textContent = 'Sign in';
      submit.removeAttribute('aria-disabled');
    }
  };

  const form = h(
    'form',
    {
      class: 'card sign-in',
      'aria-labelledby': 'sign-in-heading',
      onsubmit: (event) => {
        event.preventDefault();
        void signIn();
      },
    },
    h('div', { class: 'field' }, h('label', { for: email.id }, 'Email'), email),
    h('div', { class: 'field' }, h('label', { for: password.id }, 'Password'), password),
    submit,
  );
  const heading = pageHeading('Sign in');
  heading.id = 'sign-in-heading';
  return h(
    'section',
    { class: 'view' },
    heading,
    h('p', {}, 'Staff sign in with the email and password of their staff account.'),
    form,
  );
}
