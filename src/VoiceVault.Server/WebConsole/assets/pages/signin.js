import { add, h, field, message, replace } from '../lib/dom.js';
import { request } from '../lib/api.js';
import { navigate } from '../lib/router.js';

export async function render(main, { query, signedIn }) {
  const sid = field('Account SID or API key', h('input', { name: 'sid', autocomplete: 'username', required: true, spellcheck: 'false', autocapitalize: 'off' }),
    'AC… with the auth token, or SK… with the API key\'s secret.');
  const secret = field('Auth token or secret', h('input', { name: 'secret', type: 'password', autocomplete: 'current-password', required: true }));
  const status = h('div', {});
  const button = h('button', { type: 'submit' }, 'Sign in');
  const form = h('form', { class: 'card narrow' }, sid.row, secret.row, status, button);
  form.addEventListener('submit', async event => {
    event.preventDefault();
    button.disabled = true;
    replace(status);
    try {
      const resource = await request('POST', '/console/session', { json: { sid: sid.input.value, secret: secret.input.value }, allow401: true });
      secret.input.value = '';
      signedIn(resource);
      // Back to the page first asked for (a direct link, or where the session ended).
      const next = query.get('next') ?? (location.pathname !== '/console' ? location.pathname + location.search : null);
      navigate(next && next.startsWith('/console/') && !next.startsWith('//') ? next : '/console/recordings', { replace: true });
    } catch (error) {
      replace(status, message('error', error.message));
      secret.input.focus();
    } finally {
      button.disabled = false;
    }
  });
  add(main, h('h1', {}, 'Sign in'), form);
  return 'Sign in';
}
