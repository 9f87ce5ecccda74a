import { add, h, message, replace, table, when, announce } from '../lib/dom.js';
import { get, post, accountPath } from '../lib/api.js';
import { inScope } from '../lib/accounts.js';
import { navigate } from '../lib/router.js';

// Recordings of live calls, with the PCI pause: Pause stops writing audio (silence is kept in
// its place, as Twilio does), Resume writes again, Stop ends the recording.
export async function render(main, { session }) {
  const accounts = await inScope(session);
  const rows = [];
  for (const account of accounts) {
    const list = await get(`${accountPath(account.sid)}/Recordings.json?Status=in-progress,paused&PageSize=1000`);
    rows.push(...list.recordings);
  }
  const status = h('div', {});
  async function control(recording, to, verb) {
    try {
      await post(`${accountPath(recording.account_sid)}/Calls/${recording.call_sid}/Recordings/${recording.sid}.json`, { Status: to });
      announce(`Recording ${recording.sid} ${verb}.`);
      navigate('/console/calls', { replace: true });
    } catch (error) {
      replace(status, message('error', error.message));
    }
  }
  const refresh = h('button', { type: 'button', class: 'secondary', onclick: () => navigate('/console/calls', { replace: true }) }, 'Refresh');
  add(main, h('h1', {}, 'Live calls'),
    h('p', {}, 'Recordings of calls streaming now. Pause before a caller reads out a card number; Resume after.'),
    refresh, status,
    rows.length
      ? table('Recordings in progress', ['Recording', 'Call', 'Account', 'Started', 'Status', 'Control'], rows.map(r => [
        h('code', {}, r.sid), h('code', {}, r.call_sid), h('code', {}, r.account_sid), when(r.start_time ?? r.date_created), r.status,
        h('div', { class: 'row-actions' },
          h('button', { type: 'button', disabled: r.status === 'paused', 'aria-label': `Pause ${r.sid}`, onclick: () => control(r, 'paused', 'paused') }, 'Pause'),
          h('button', { type: 'button', disabled: r.status !== 'paused', 'aria-label': `Resume ${r.sid}`, onclick: () => control(r, 'in-progress', 'resumed') }, 'Resume'),
          h('button', { type: 'button', class: 'danger', 'aria-label': `Stop ${r.sid}`, onclick: () => control(r, 'stopped', 'stopped') }, 'Stop')),
      ]))
      : message('notice', 'No call is being recorded right now.'));
  return 'Live calls';
}
