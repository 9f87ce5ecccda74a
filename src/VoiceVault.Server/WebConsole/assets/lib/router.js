// Moving between the console's pages without reloading: pages ask for a path, app.js renders it.
// Pages import this, never app.js, so no module imports the one that imports it.

let render = () => {};

/** Called by app.js once: how a path is rendered. */
export function onNavigate(renderer) {
  render = renderer;
}

/** Shows the console page at path (in the history, or in place of the current entry). */
export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}
