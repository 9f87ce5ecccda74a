import { add, h, field, message, replace, table, when, dialog, announce } from '../lib/dom.js';
import { post, accountPath } from '../lib/api.js';
import { inScope } from '../lib/accounts.js';
import { navigate } from '../lib/router.js';

export async function render(main, { session }) {
  const accounts = await inScope(session);
  const status = h('div', {});
  const subaccounts = accounts.filter(a => a.sid !== session.account_sid);
  const name = field('Friendly name', h('input', { name: 'friendly-name', maxlength: '64', required: true }));
  const form = h('form', { class: 'card', 'aria-label': 'New subaccount' }, name.row, h('button', { type: 'submit' }, 'Create subaccount'));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    try {
      const created = await post('/2010-04-01/Accounts.json', { FriendlyName: name.input.value });
      announce(`Subaccount ${created.sid} created.`);
      navigate('/console/accounts', { replace: true });
    } catch (error) {
      replace(status, message('error', error.message));
    }
  });
  async function rename(account) {
    const input = h('input', { id: 'rename-account', value: account.friendly_name, maxlength: '64' });
    if (await dialog(`Rename ${account.sid}`, h('div', { class: 'field' }, h('label', { for: 'rename-account' }, 'Friendly name'), input),
      [{ label: 'Save', value: 'save' }, { label: 'Cancel', value: 'cancel', kind: 'secondary' }]) !== 'save') return;
    await update(account, { FriendlyName: input.value });
  }
  async function update(account, form) {
    try {
      await post(`${accountPath(account.sid)}.json`, form);
      navigate('/console/accounts', { replace: true });
    } catch (error) {
      replace(status, message('error', error.message));
    }
  }
  const isMain = !session.parent_sid;
  add(main, h('h1', {}, 'Subaccounts'),
    isMain ? form : message('notice', 'This is a subaccount: only its main account can create subaccounts.'),
    status,
    subaccounts.length ? table('Subaccounts', ['Friendly name', 'SID', 'Status', 'Created', 'Actions'], subaccounts.map(a => [
      a.friendly_name, h('code', {}, a.sid), a.status, when(a.date_created),
      h('div', { class: 'row-actions' },
        h('button', { type: 'button', class: 'secondary', 'aria-label': `Rename ${a.friendly_name}`, onclick: () => rename(a) }, 'Rename'),
        a.status === 'active'
          ? h('button', { type: 'button', class: 'danger', 'aria-label': `Suspend ${a.friendly_name}`, onclick: () => update(a, { Status: 'suspended' }) }, 'Suspend')
          : a.status === 'suspended'
            ? h('button', { type: 'button', 'aria-label': `Reactivate ${a.friendly_name}`, onclick: () => update(a, { Status: 'active' }) }, 'Reactivate')
            : null),
    ])) : message('notice', 'No subaccounts.'));
  return 'Subaccounts';
}
