import { add, h, field, message, table, when } from '../lib/dom.js';
import { get, accountPath, recordingStatuses } from '../lib/api.js';
import { inScope, chooser } from '../lib/accounts.js';
import { navigate } from '../lib/router.js';

export async function render(main, { query, session }) {
  const [accounts, statuses] = await Promise.all([inScope(session), recordingStatuses()]);
  const account = query.get('account') ?? session.account_sid;
  const filters = {
    CallSid: query.get('call') ?? '',
    'DateCreated>': query.get('from') ?? '',
    'DateCreated<': query.get('to') ?? '',
    Status: query.get('status') ?? '',
  };
  const accountField = chooser(accounts, account);
  const call = field('Call SID', h('input', { name: 'call', value: filters.CallSid, spellcheck: 'false', placeholder: 'CA…' }));
  const from = field('Created from', h('input', { name: 'from', type: 'date', value: filters['DateCreated>'] }));
  const to = field('Created to', h('input', { name: 'to', type: 'date', value: filters['DateCreated<'] }));
  const status = field('Status', h('select', { name: 'status' }, h('option', { value: '' }, 'Any'),
    statuses.map(s => h('option', { value: s, selected: s === filters.Status }, s))));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter recordings' },
    accountField.row, call.row, from.row, to.row, status.row, h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', event => {
    event.preventDefault();
    const next = new URLSearchParams();
    next.set('account', accountField.input.value);
    for (const [name, input] of [['call', call.input], ['from', from.input], ['to', to.input], ['status', status.input]]) {
      if (input.value.trim()) next.set(name, input.value.trim());
    }
    navigate(`/console/recordings?${next}`);
  });

  const api = new URLSearchParams({ PageSize: query.get('size') ?? '50' });
  for (const [name, value] of Object.entries(filters)) if (value) api.set(name, value);
  if (query.get('page')) api.set('PageToken', query.get('page'));
  if (query.get('n')) api.set('Page', query.get('n'));
  const list = await get(`${accountPath(account)}/Recordings.json?${api}`);
  const here = token => {
    const next = new URLSearchParams(query);
    next.set('account', account);
    const link = new URL(token, location.origin).searchParams;
    next.set('page', link.get('PageToken'));
    next.set('n', link.get('Page'));
    return `/console/recordings?${next}`;
  };
  const rows = list.recordings.map(r => [
    h('a', { href: `/console/recordings/${r.sid}?account=${r.account_sid}` }, h('code', {}, r.sid)),
    h('code', {}, r.call_sid),
    when(r.date_created),
    r.duration === null ? '—' : `${r.duration} s`,
    r.status,
    r.error_code ? String(r.error_code) : '',
    r.encryption_details ? h('code', {}, r.encryption_details.encryption_public_key_sid) : 'no',
  ]);
  add(main, h('h1', {}, 'Recordings'), form,
    rows.length ? table(`Recordings of ${account}, newest first (page ${list.page + 1})`,
      ['Recording', 'Call', 'Created', 'Duration', 'Status', 'Error', 'Encrypted to'], rows)
      : message('notice', 'No recordings match.'),
    h('nav', { class: 'pager', 'aria-label': 'Pages' },
      list.previous_page_uri ? h('a', { href: here(list.previous_page_uri), rel: 'prev' }, 'Previous page') : null,
      ' ',
      list.next_page_uri ? h('a', { href: here(list.next_page_uri), rel: 'next' }, 'Next page') : null));
  return 'Recordings';
}
