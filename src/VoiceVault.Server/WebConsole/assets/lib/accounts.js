import { h, field } from './dom.js';
import { all } from './api.js';

/** The accounts the session may act on: its own and, for a main account, its subaccounts. */
export async function inScope(session) {
  const accounts = await all('/2010-04-01/Accounts.json?PageSize=1000', 'accounts');
  return accounts.filter(account => account.sid === session.account_sid || account.owner_account_sid === session.account_sid || account.parent_account_sid === session.account_sid)
    .sort((a, b) => (a.sid === session.account_sid ? -1 : b.sid === session.account_sid ? 1 : a.friendly_name.localeCompare(b.friendly_name)));
}

/** A labelled "Account" select over the accounts in scope. */
export function chooser(accounts, selected, label = 'Account') {
  const select = h('select', { name: 'account' },
    accounts.map(account => h('option', { value: account.sid, selected: account.sid === selected },
      `${account.friendly_name} (${account.sid})${account.status !== 'active' ? ` — ${account.status}` : ''}`)));
  return field(label, select);
}
