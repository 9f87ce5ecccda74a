import { add, h, field, message, table, when, replace } from '../lib/dom.js';
import { get, post } from '../lib/api.js';
import { inScope, chooser } from '../lib/accounts.js';
import { navigate } from '../lib/router.js';
import { GENESIS, checkpointSigned, verifySpan } from '../lib/auditchain.js';

// The audited actions (docs/audit.md), offered as suggestions; the vault says when one is not.
const ACTIONS = ['recording.create', 'recording.read', 'recording.media.read', 'recording.wrap.add', 'recording.control', 'recording.delete',
  'public_key.create', 'public_key.delete', 'encryption_setting.update', 'account.create', 'account.update', 'api_key.create', 'api_key.delete',
  'twilio_link.update', 'twilio_link.delete', 'console.sign_in', 'console.sign_out', 'audit.export', 'audit.prune', 'auth.failed'];

const eventsPath = account => `/v1/Accounts/${encodeURIComponent(account)}/AuditEvents`;
const checkpointsPath = account => `/v1/Accounts/${encodeURIComponent(account)}/AuditCheckpoints`;

export async function render(main, { query, session }) {
  const accounts = await inScope(session);
  const account = query.get('account') ?? session.account_sid;
  const accountField = chooser(accounts, account);
  const start = field('From', h('input', { name: 'start', type: 'date', value: query.get('start') ?? '' }));
  const end = field('Before', h('input', { name: 'end', type: 'date', value: query.get('end') ?? '' }), 'Events before this day.');
  const action = field('Action', h('input', { name: 'action', list: 'audit-actions', value: query.get('action') ?? '', spellcheck: 'false' }));
  const resource = field('Resource SID', h('input', { name: 'resource', value: query.get('resource') ?? '', spellcheck: 'false', placeholder: 'RE…, CR…' }));
  const actor = field('Actor SID', h('input', { name: 'actor', value: query.get('actor') ?? '', spellcheck: 'false', placeholder: 'AC…, SK…' }));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter audit events' },
    accountField.row, start.row, end.row, action.row, resource.row, actor.row,
    h('datalist', { id: 'audit-actions' }, ACTIONS.map(a => h('option', { value: a }))),
    h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', event => {
    event.preventDefault();
    const next = new URLSearchParams({ account: accountField.input.value });
    for (const [name, input] of [['start', start.input], ['end', end.input], ['action', action.input], ['resource', resource.input], ['actor', actor.input]]) {
      if (input.value.trim()) next.set(name, input.value.trim());
    }
    navigate(`/console/audit?${next}`);
  });

  const api = new URLSearchParams({ PageSize: '50' });
  for (const [name, key] of [['start', 'StartDate'], ['end', 'EndDate'], ['action', 'Action'], ['resource', 'ResourceSid'], ['actor', 'ActorSid']]) {
    if (query.get(name)) api.set(key, query.get(name));
  }
  if (query.get('page')) api.set('PageToken', query.get('page'));
  const list = await get(`${eventsPath(account)}?${api}`);
  const rows = list.audit_events.map(e => [
    String(e.sequence),
    when(e.date_created),
    h('code', {}, e.action),
    h('span', {}, e.actor_type, e.actor_sid ? [' ', h('code', {}, e.actor_sid)] : null),
    e.resource_sid ? h('code', {}, e.resource_sid) : '',
    e.source_ip ?? '',
    e.outcome,
    h('code', { class: 'event-details' }, JSON.stringify(e.details)),
  ]);
  const pageLink = (url, label, rel) => {
    const token = new URL(url, location.origin).searchParams.get('PageToken');
    const next = new URLSearchParams(query);
    next.set('account', account);
    next.set('page', token);
    return h('a', { href: `/console/audit?${next}`, rel }, label);
  };

  const result = h('div');
  const verify = h('button', { type: 'button', onclick: () => verifyChain(account, result, verify) }, 'Verify');
  add(main, h('h1', {}, 'Audit'),
    h('p', {}, 'Who read which recording and who changed who can read: each account\'s own chain of events, newest first. ',
      'Verify checks, here in your browser, that the newest signed checkpoint covers the events before it.'),
    form,
    h('section', { 'aria-labelledby': 'verify-heading' }, h('h2', { id: 'verify-heading' }, 'Verify the chain'), verify, result),
    rows.length ? table(`Audit events of ${account}, newest first`, ['Sequence', 'When', 'Action', 'Actor', 'Resource', 'Address', 'Outcome', 'Details'], rows)
      : message('notice', 'No events match.'),
    h('nav', { class: 'pager', 'aria-label': 'Pages' },
      list.meta.previous_page_url ? pageLink(list.meta.previous_page_url, 'Newer events', 'prev') : null,
      list.meta.next_page_url ? pageLink(list.meta.next_page_url, 'Older events', 'next') : null));
  return 'Audit';
}

/** From the newest checkpoint back to the one before it (or the chain's start): fetched, hashed, the signatures checked. */
async function verifyChain(account, result, button) {
  button.disabled = true;
  replace(result, message('notice', 'Verifying…'));
  try {
    const [{ audit_checkpoints: checkpoints }, { signing_keys: keys }] = await Promise.all([
      get(`${checkpointsPath(account)}?PageSize=2`), get('/v1/Audit/SigningKeys')]);
    if (checkpoints.length === 0) {
      const make = h('button', { type: 'button', onclick: async () => { await post(checkpointsPath(account), {}); await verifyChain(account, result, button); } }, 'Make a checkpoint now');
      replace(result, message('notice', 'There is no signed checkpoint of this chain yet (the vault makes one every few minutes for a chain with new events).'), make);
      return;
    }
    const [newest, older] = checkpoints;
    const ok = await checkpointSigned(newest, keys);
    if (!ok) {
      return show(result, { ok: false, sequence: newest.sequence, kind: 'bad signature', detail: `checkpoint ${newest.sid} is not signed by the vault's key ${newest.key_id}` });
    }
    // Where the span starts: the older checkpoint (signed too), else the chain's first event.
    let from = 0;
    let previous = GENESIS;
    const first = (await get(`${eventsPath(account)}?Order=asc&PageSize=1`)).audit_events[0];
    if (older && (!first || older.sequence >= first.sequence - 1)) {
      if (!(await checkpointSigned(older, keys))) {
        return show(result, { ok: false, sequence: older.sequence, kind: 'bad signature', detail: `checkpoint ${older.sid} is not signed by the vault's key ${older.key_id}` });
      }
      from = older.sequence;
      previous = older.hash;
    } else if (first && first.sequence > 1) {
      return show(result, { ok: false, sequence: 1, kind: 'missing', detail: `the chain starts at sequence ${first.sequence} and no checkpoint anchors it` });
    }
    const events = [];
    let next = `${eventsPath(account)}?Order=asc&PageSize=1000${from > 0 ? `&PageToken=PA${from}` : ''}`;
    while (next) {
      const page = await get(next);
      events.push(...page.audit_events.filter(e => e.sequence <= newest.sequence));
      next = page.audit_events.some(e => e.sequence >= newest.sequence) ? null : page.meta.next_page_url;
    }
    const verdict = await verifySpan(events, from, previous, newest);
    show(result, verdict.ok
      ? { ok: true, detail: `The chain holds: events ${from + 1}–${newest.sequence} link and checkpoint ${newest.sid} (${when(newest.date_created)}, key ${newest.key_id}) signs them.` }
      : verdict);
  } catch (error) {
    replace(result, message('error', `Could not verify: ${error.message}`));
  } finally {
    button.disabled = false;
  }
}

function show(result, verdict) {
  const text = verdict.ok ? verdict.detail : `The chain breaks at sequence ${verdict.sequence}: ${verdict.kind} — ${verdict.detail}.`;
  // The message's own role (status, or alert when it breaks) tells assistive technology.
  replace(result, message(verdict.ok ? 'notice' : 'error', text));
}
