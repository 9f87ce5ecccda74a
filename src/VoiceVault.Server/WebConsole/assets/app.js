// The console: one document, routed by path. Each page is a module that renders into <main>.
import { h, replace } from './lib/dom.js';
import { configure, get, request } from './lib/api.js';
import { navigate, onNavigate } from './lib/router.js';

const pages = [
  [/^\/console\/?$/, () => import('./pages/home.js')],
  [/^\/console\/credentials\/?$/, () => import('./pages/credentials.js')],
  [/^\/console\/voice\/settings\/?$/, () => import('./pages/settings.js')],
  [/^\/console\/recordings\/?$/, () => import('./pages/recordings.js')],
  [/^\/console\/recordings\/(RE[0-9a-f]{32})\/?$/, () => import('./pages/recording.js')],
  [/^\/console\/calls\/?$/, () => import('./pages/calls.js')],
  [/^\/console\/debugger\/?$/, () => import('./pages/debugger.js')],
  [/^\/console\/accounts\/?$/, () => import('./pages/accounts.js')],
  [/^\/console\/keys\/?$/, () => import('./pages/keys.js')],
  [/^\/console\/audit\/?$/, () => import('./pages/audit.js')],
];

/** The signed-in session (account, CSRF token), or null. */
let session = null;

const main = document.getElementById('main');

function signedOut() {
  if (session === null && location.pathname === '/console') return;
  session = null;
  configure({ csrf: null });
  showShell();
  const back = location.pathname + location.search;
  history.replaceState(null, '', '/console' + (back.startsWith('/console/') ? `?next=${encodeURIComponent(back)}` : ''));
  render();
}

function showShell() {
  document.getElementById('nav').hidden = session === null;
  const who = document.getElementById('who');
  if (session === null) {
    replace(who);
    return;
  }
  replace(who,
    h('span', {}, session.friendly_name, ' ', h('code', {}, session.account_sid)),
    ' ',
    h('button', { type: 'button', class: 'link', onclick: signOut }, 'Sign out'));
}

async function signOut() {
  try {
    await request('DELETE', '/console/session', { allow401: true });
  } finally {
    signedOut();
  }
}

/** After a successful sign-in (the sign-in page is handed this). */
function signedIn(resource) {
  session = resource;
  configure({ csrf: resource.csrf_token });
  showShell();
}

let rendering = 0;
async function render() {
  const ticket = ++rendering;
  const path = location.pathname;
  let route = null;
  let match = null;
  for (const [pattern, load] of pages) {
    match = path.match(pattern);
    if (match) {
      route = load;
      break;
    }
  }
  if (session === null) {
    route = () => import('./pages/signin.js');
    match = [path];
  }
  for (const link of document.querySelectorAll('#nav a')) {
    if (path.startsWith(link.getAttribute('href'))) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (!route) {
    replace(main, h('h1', { tabindex: '-1' }, 'Not found'), h('p', {}, 'There is no console page at this address.'));
    finish('Not found');
    return;
  }
  replace(main, h('p', { class: 'loading' }, 'Loading…'));
  try {
    const page = await route();
    if (ticket !== rendering) return;
    replace(main);
    const title = await page.render(main, { params: match.slice(1), query: new URLSearchParams(location.search), session, signedIn });
    if (ticket !== rendering) return;
    finish(title);
  } catch (error) {
    if (ticket !== rendering) return;
    replace(main, h('h1', { tabindex: '-1' }, 'Something went wrong'), h('p', { role: 'alert', class: 'message error' }, error.message));
    finish('Error');
  }
}

// Focus goes to the new page's heading, so a screen reader or keyboard user starts there.
function finish(title) {
  document.title = `${title} · VoiceVault console`;
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

// Same-origin links inside the console are followed without reloading the page.
document.addEventListener('click', event => {
  const link = event.target.closest?.('a[href]');
  if (!link || link.target || link.hasAttribute('download') || event.defaultPrevented || event.button !== 0
      || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin || !url.pathname.startsWith('/console') || url.pathname.startsWith('/console/assets/')) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
});
window.addEventListener('popstate', render);
onNavigate(render);

configure({ signedOut });
try {
  signedIn(await get('/console/session', { allow401: true }));
} catch {
  session = null;
}
showShell();
render();
