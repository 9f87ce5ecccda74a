// Building the page without innerHTML: every value from the API or the user goes in as text, so
// nothing a tenant stored (a friendly name, a callback URL) can become markup or script.

/** h('tag', {attr: value, onclick: fn}, ...children): an element; strings become text nodes. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      element.className = value;
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

/** Appends children to an element, leaving out null, undefined and false (Element.append would write "null"). */
export function add(element, ...children) {
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what an element holds. */
export function replace(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

let ids = 0;
/** A unique id for label/aria wiring. */
const uid = prefix => `${prefix}-${++ids}`;

/** A labelled form field: returns {row, input}. */
export function field(label, input, hint) {
  input.id ||= uid('field');
  const parts = [h('label', { for: input.id }, label), input];
  if (hint) {
    const hintId = uid('hint');
    input.setAttribute('aria-describedby', hintId);
    parts.push(h('p', { id: hintId, class: 'hint' }, hint));
  }
  return { row: h('div', { class: 'field' }, parts), input };
}

/** A message region; errors are announced (role=alert), notices politely. */
export function message(kind, text) {
  return h('p', { class: `message ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

/** Tells assistive technology something happened without moving focus. */
export function announce(text) {
  const region = document.getElementById('announce');
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 50);
}

/** A table with a caption; rows are arrays of cells (strings or nodes). */
export function table(caption, headings, rows) {
  // In a box of its own that scrolls sideways when the window is narrower than the table, so the
  // page itself never does (reachable by keyboard, named after the table for screen readers).
  return h('div', { class: 'table-scroll', role: 'region', 'aria-label': caption, tabindex: '0' },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, headings.map(text => h('th', { scope: 'col' }, text)))),
      h('tbody', {}, rows.map(cells => h('tr', {}, cells.map(cell => h('td', {}, cell)))))));
}

/** A modal dialog (native <dialog>: focus is trapped and Escape closes it). Resolves with the button value chosen. */
export function dialog(title, body, buttons) {
  return new Promise(resolve => {
    const titleId = uid('dialog');
    const element = h('dialog', { 'aria-labelledby': titleId },
      h('h2', { id: titleId }, title),
      body,
      h('div', { class: 'actions' }, buttons.map(({ label, value, kind }) =>
        h('button', { type: 'button', class: kind ?? '', onclick: () => { element.close(value); } }, label))));
    element.addEventListener('close', () => { element.remove(); resolve(element.returnValue || null); });
    document.body.append(element);
    element.showModal();
  });
}

/** A date from the API (RFC 2822 or ISO 8601) in the reader's locale. */
export function when(text) {
  if (!text) return '';
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toLocaleString();
}
