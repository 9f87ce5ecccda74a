import { add, h, message, table, when } from '../lib/dom.js';
import { get, accountPath } from '../lib/api.js';
import { inScope, chooser } from '../lib/accounts.js';
import { explain } from '../lib/codes.js';
import { navigate } from '../lib/router.js';

export async function render(main, { query, session }) {
  const accounts = await inScope(session);
  const account = query.get('account') ?? session.account_sid;
  const api = new URLSearchParams({ PageSize: '50' });
  if (query.get('page')) api.set('PageToken', query.get('page'));
  const list = await get(`${accountPath(account)}/Notifications.json?${api}`);
  const accountField = chooser(accounts, account);
  accountField.input.addEventListener('change', () => navigate(`/console/debugger?account=${accountField.input.value}`));
  const rows = list.notifications.map(n => {
    const code = explain(n.error_code);
    return [
      when(n.date_created),
      h('strong', {}, n.error_code),
      n.log === '0' || n.log === 0 ? 'error' : 'warning',
      h('div', {}, h('p', {}, n.message_text), n.call_sid ? h('p', { class: 'hint' }, 'Call ', h('code', {}, n.call_sid)) : null),
      h('div', {}, h('p', {}, h('strong', {}, code.title), ': ', code.what), h('p', {}, 'What to do: ', code.todo)),
    ];
  });
  const next = list.next_page_uri ? new URL(list.next_page_uri, location.origin).searchParams.get('PageToken') : null;
  add(main, h('h1', {}, 'Debugger'), accountField.row,
    rows.length ? table(`Notifications of ${account}, newest first`, ['When', 'Code', 'Level', 'Message', 'Explanation'], rows)
      : message('notice', 'No notifications: nothing has gone wrong.'),
    next ? h('nav', { class: 'pager', 'aria-label': 'Pages' }, h('a', { href: `/console/debugger?account=${account}&page=${next}` }, 'Older notifications')) : null);
  return 'Debugger';
}
