import { add, h, field, message, replace, when, announce } from '../lib/dom.js';
import { get, post, accountPath } from '../lib/api.js';
import { inScope, chooser } from '../lib/accounts.js';
import { navigate } from '../lib/router.js';

export async function render(main, { query, session }) {
  const accounts = await inScope(session);
  const account = query.get('account') ?? session.account_sid;
  const chosen = accounts.find(a => a.sid === account);
  const setting = await get(`${accountPath(account)}/RecordingEncryption.json`);
  // The keys a setting may name: the account's own and its parent's (docs/api.md §6).
  const owners = [account];
  if (chosen && chosen.owner_account_sid && chosen.owner_account_sid !== account) owners.push(chosen.owner_account_sid);
  const keys = [];
  for (const owner of owners) {
    try {
      const list = await get(`/v1/Credentials/PublicKeys?PageSize=1000&AccountSid=${encodeURIComponent(owner)}`);
      keys.push(...list.credentials.map(key => ({ ...key, inherited: owner !== account })));
    } catch {
      // A subaccount signed in cannot list its parent's keys; it can still keep the one set.
    }
  }
  if (setting.public_key_sid && !keys.some(key => key.sid === setting.public_key_sid)) {
    keys.push({ sid: setting.public_key_sid, friendly_name: '(a key of the parent account)', inherited: true });
  }

  const accountField = chooser(accounts, account);
  accountField.input.addEventListener('change', () => navigate(`/console/voice/settings?account=${accountField.input.value}`));
  const enabled = h('input', { type: 'checkbox', id: 'encryption-enabled', name: 'enabled', checked: setting.enabled });
  const keyField = field('Public key', h('select', { name: 'public-key' },
    h('option', { value: '' }, keys.length ? 'Choose a key…' : 'No public keys: create one under Credentials'),
    keys.map(key => h('option', { value: key.sid, selected: key.sid === setting.public_key_sid },
      `${key.friendly_name || '(no name)'} (${key.sid})${key.inherited ? ' — parent account' : ''}`))));
  const status = h('div', {});
  const inherited = setting.inherited_from
    ? message('notice', `This account has no setting of its own: it inherits ${setting.enabled ? 'encryption ON' : 'encryption OFF'} from ${setting.inherited_from}. Saving gives it its own.`)
    : setting.date_updated ? h('p', { class: 'hint' }, `Set on this account, ${when(setting.date_updated)}.`)
      : message('notice', 'No setting yet, here or on a parent account: encryption is OFF for this account.');
  const form = h('form', { class: 'card' },
    accountField.row,
    inherited,
    h('div', { class: 'field check' }, enabled, h('label', { for: 'encryption-enabled' }, 'Voice Recording Encryption')),
    h('p', { class: 'hint' }, 'When on, every new recording of this account is encrypted to the public key below; only its private key can open it. Recordings made before are not changed.'),
    keyField.row, status, h('button', { type: 'submit' }, 'Save'));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    if (enabled.checked && !keyField.input.value) {
      replace(status, message('error', 'Choose the public key that recordings are encrypted to.'));
      keyField.input.focus();
      return;
    }
    try {
      const saved = await post(`${accountPath(account)}/RecordingEncryption.json`,
        { Enabled: enabled.checked ? 'true' : 'false', PublicKeySid: keyField.input.value || undefined });
      replace(status, message('notice', `Saved: encryption ${saved.enabled ? `on, to ${saved.public_key_sid}` : 'off'} for ${saved.account_sid}.`));
      announce('Voice settings saved.');
    } catch (error) {
      replace(status, message('error', error.message));
    }
  });
  add(main, h('h1', {}, 'Voice settings'), form);
  return 'Voice settings';
}
