import { add, h, field, message, replace, table, when, dialog, announce } from '../lib/dom.js';
import { get, post, del } from '../lib/api.js';
import { inScope, chooser } from '../lib/accounts.js';
import { navigate } from '../lib/router.js';

const PATH = '/v1/Credentials/PublicKeys';

/** A private key must never be sent anywhere: this page refuses it before any request is made. */
function looksPrivate(text) {
  return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(text) || /PRIVATE KEY/.test(text.slice(0, 200));
}

export async function render(main, { query, session }) {
  const accounts = await inScope(session);
  const account = query.get('account') ?? session.account_sid;
  const keys = (await get(`${PATH}?PageSize=1000&AccountSid=${encodeURIComponent(account)}`)).credentials;
  const status = h('div', {});
  const accountField = chooser(accounts, account);
  accountField.input.addEventListener('change', () => navigate(`/console/credentials?account=${accountField.input.value}`));

  const name = field('Friendly name', h('input', { name: 'friendly-name', maxlength: '64' }));
  const pem = field('Public key', h('textarea', { name: 'public-key', rows: '8', spellcheck: 'false', class: 'mono' }),
    'The RSA public key as PEM (-----BEGIN PUBLIC KEY-----), 2048 bits or more. Never a private key.');
  const fileInput = field('Or choose a public key file', h('input', { type: 'file', name: 'public-key-file', accept: '.pub,.pem,.txt' }));
  const createStatus = h('div', {});
  fileInput.input.addEventListener('change', async () => {
    const file = fileInput.input.files?.[0];
    if (!file) return;
    if (file.size > 64 * 1024) {
      replace(createStatus, message('error', 'That file is too large to be a public key.'));
      return;
    }
    const text = await file.text();
    if (looksPrivate(text)) {
      fileInput.input.value = '';
      replace(createStatus, message('error', 'That file is a PRIVATE key. Keep it secret: choose the public key (.pub) made with it.'));
      return;
    }
    pem.input.value = text;
    replace(createStatus);
  });
  const createForm = h('form', { class: 'card', hidden: true, 'aria-label': 'New credential' },
    name.row, pem.row, fileInput.row, createStatus, h('button', { type: 'submit' }, 'Create'));
  const open = h('button', { type: 'button', 'aria-expanded': 'false', onclick: () => {
    createForm.hidden = !createForm.hidden;
    open.setAttribute('aria-expanded', String(!createForm.hidden));
    if (!createForm.hidden) name.input.focus();
  } }, 'Create new Credential');
  createForm.addEventListener('submit', async event => {
    event.preventDefault();
    const text = pem.input.value;
    if (looksPrivate(text)) {
      // Cleared at once: the private key must not stay in the page either.
      pem.input.value = '';
      replace(createStatus, message('error', 'That is a PRIVATE key, and it was not sent. Keep it secret: paste the public key (BEGIN PUBLIC KEY) made from it.'));
      pem.input.focus();
      return;
    }
    if (!text.trim()) {
      replace(createStatus, message('error', 'Paste the public key (PEM) or choose its file.'));
      pem.input.focus();
      return;
    }
    try {
      const created = await post(PATH, { FriendlyName: name.input.value, PublicKey: text, AccountSid: account });
      announce(`Credential ${created.sid} created.`);
      navigate(`/console/credentials?account=${account}&created=${created.sid}`, { replace: true });
    } catch (error) {
      replace(createStatus, message('error', error.message));
    }
  });

  const rows = keys.map(key => [
    key.friendly_name || '(no name)',
    h('code', {}, key.sid),
    when(key.date_created),
    h('div', { class: 'row-actions' },
      h('button', { type: 'button', class: 'secondary', 'aria-label': `Rename ${key.friendly_name || key.sid}`, onclick: () => rename(key) }, 'Rename'),
      h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${key.friendly_name || key.sid}`, onclick: () => remove(key) }, 'Delete')),
  ]);

  async function rename(key) {
    const input = h('input', { id: 'rename-input', value: key.friendly_name, maxlength: '64' });
    const answer = await dialog(`Rename ${key.sid}`, h('div', { class: 'field' }, h('label', { for: 'rename-input' }, 'Friendly name'), input),
      [{ label: 'Save', value: 'save' }, { label: 'Cancel', value: 'cancel', kind: 'secondary' }]);
    if (answer !== 'save') return;
    try {
      await post(`${PATH}/${key.sid}`, { FriendlyName: input.value });
      navigate(`/console/credentials?account=${account}`, { replace: true });
    } catch (error) {
      replace(status, message('error', error.message));
    }
  }

  async function remove(key) {
    const usage = await get(`/console/api/public-keys/${key.sid}/usage`);
    const warning = usage.recordings === 0
      ? 'No recording is encrypted to this key.'
      : `${usage.recordings} recording${usage.recordings === 1 ? ' is' : 's are'} encrypted to this key. Deleting the credential does not touch them: they still need this key's private half to be decrypted, so keep that private key.`;
    const answer = await dialog(`Delete ${key.friendly_name || key.sid}?`,
      [h('p', { class: 'warning' }, warning), h('p', {}, 'Recordings made afterwards cannot be encrypted to it: choose another key in Voice settings for any account that uses it.')],
      [{ label: 'Delete', value: 'delete', kind: 'danger' }, { label: 'Cancel', value: 'cancel', kind: 'secondary' }]);
    if (answer !== 'delete') return;
    try {
      await del(`${PATH}/${key.sid}`);
      announce(`Credential ${key.sid} deleted.`);
      navigate(`/console/credentials?account=${account}`, { replace: true });
    } catch (error) {
      replace(status, message('error', error.message));
    }
  }

  const created = query.get('created');
  add(main, h('h1', {}, 'Credentials'),
    h('p', {}, 'Public keys that recordings are encrypted to. The private keys stay with you.'),
    accountField.row,
    created ? message('notice', `Credential ${created} created.`) : null,
    status,
    open, createForm,
    keys.length ? table(`Public keys of ${account}`, ['Friendly name', 'SID', 'Created', 'Actions'], rows) : message('notice', 'No public keys yet.'));
  return 'Credentials';
}
