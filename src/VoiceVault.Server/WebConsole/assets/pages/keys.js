import { add, h, field, message, replace, table, when, dialog, announce } from '../lib/dom.js';
import { get, post, del, accountPath } from '../lib/api.js';
import { navigate } from '../lib/router.js';

export async function render(main, { session }) {
  const base = `${accountPath(session.account_sid)}/Keys`;
  const keys = (await get(`${base}.json?PageSize=1000`)).keys;
  const status = h('div', {});
  const name = field('Friendly name', h('input', { name: 'friendly-name', maxlength: '64' }));
  const form = h('form', { class: 'card', 'aria-label': 'New API key' }, name.row, h('button', { type: 'submit' }, 'Create API key'));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    try {
      const created = await post(`${base}.json`, { FriendlyName: name.input.value });
      // The secret exists in this answer only: shown once, in a dialog, then gone from the page.
      await dialog('API key created', [
        h('p', {}, 'Copy the secret now. It is not shown again; if it is lost, delete the key and make another.'),
        h('dl', { class: 'facts' }, h('dt', {}, 'SID'), h('dd', {}, h('code', {}, created.sid)),
          h('dt', {}, 'Secret'), h('dd', {}, h('code', { class: 'secret' }, created.secret))),
      ], [{ label: 'I have copied it', value: 'done' }]);
      navigate('/console/keys', { replace: true });
    } catch (error) {
      replace(status, message('error', error.message));
    }
  });
  async function remove(key) {
    const answer = await dialog(`Delete ${key.friendly_name || key.sid}?`,
      h('p', {}, 'Anything that signs in with this key stops working at once, console sessions opened with it included.'),
      [{ label: 'Delete', value: 'delete', kind: 'danger' }, { label: 'Cancel', value: 'cancel', kind: 'secondary' }]);
    if (answer !== 'delete') return;
    try {
      await del(`${base}/${key.sid}.json`);
      announce(`API key ${key.sid} deleted.`);
      navigate('/console/keys', { replace: true });
    } catch (error) {
      replace(status, message('error', error.message));
    }
  }
  add(main, h('h1', {}, 'API keys'),
    h('p', {}, `Keys of ${session.account_sid}: sign in to the API (and this console) as SK… with the key's secret instead of the auth token.`),
    form, status,
    keys.length ? table('API keys', ['Friendly name', 'SID', 'Created', 'Actions'], keys.map(k => [
      k.friendly_name || '(no name)', h('code', {}, k.sid), when(k.date_created),
      h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${k.friendly_name || k.sid}`, onclick: () => remove(k) }, 'Delete'),
    ])) : message('notice', 'No API keys.'));
  return 'API keys';
}
