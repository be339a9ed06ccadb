// Small helpers shared by the pages: safe DOM building, states, times and durations.
export const TERMINAL = ['COMPLETE', 'EXECUTOR_ERROR', 'SYSTEM_ERROR', 'CANCELED', 'PREEMPTED'];
export const CANCELABLE = ['QUEUED', 'INITIALIZING', 'RUNNING', 'PAUSED'];
export const STATES = ['QUEUED', 'INITIALIZING', 'RUNNING', 'PAUSED', 'CANCELING', ...TERMINAL, 'UNKNOWN'];

/** Builds an element; children are nodes or text (never parsed as HTML). */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else if (name === 'class') element.className = value;
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : String(child));
  }
  return element;
}

export const $ = (id) => document.getElementById(id);

/** A table with a header row of `columns` and one row per entry of `rows`, each an array of cells (nodes or text). */
export function table(columns, rows) {
  return h('div', { class: 'table-wrap' }, h('table', {},
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c)))))));
}

/** Replaces an element's children, leaving out null, undefined and false (conditional parts). */
export function put(element, ...children) {
  element.replaceChildren(...children.flat(Infinity).filter((c) => c !== null && c !== undefined && c !== false));
}

export function badge(state) {
  return h('span', { class: `badge state-${(state || 'UNKNOWN').toLowerCase()}` }, state || 'UNKNOWN');
}

export function isTerminal(state) {
  return TERMINAL.includes(state);
}

// One formatter for every time on the page: toLocaleString would build a new one per call, which costs a page of
// runs tens of milliseconds.
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function time(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: iso, title: iso }, dateTime.format(new Date(iso)));
}

/** "1 h 02 min", "3 min 04 s", "1.2 s"; a duration that is still growing has data-since so a ticker can refresh it. */
export function duration(milliseconds) {
  if (milliseconds === null || milliseconds === undefined || Number.isNaN(milliseconds)) return '—';
  const ms = Math.max(0, milliseconds);
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  const pad = (n) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)} min ${pad(s % 60)} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${pad(Math.floor(s / 60) % 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor(s / 3600) % 24} h`;
}

export function runDuration(start, end) {
  if (!start) return h('span', { class: 'muted' }, '—');
  if (end) return duration(Date.parse(end) - Date.parse(start));
  return h('span', { 'data-since': start }, duration(Date.now() - Date.parse(start)));
}

/** Keeps every open-ended duration on the page current. */
export function tickDurations() {
  setInterval(() => {
    for (const element of document.querySelectorAll('[data-since]')) {
      element.textContent = duration(Date.now() - Date.parse(element.dataset.since));
    }
  }, 1000);
}

export function workflowName(url) {
  if (!url) return '';
  const path = url.split(/[?#]/)[0];
  return path.slice(path.lastIndexOf('/') + 1) || url;
}

export function tagChips(tags) {
  const entries = Object.entries(tags || {});
  if (entries.length === 0) return h('span', { class: 'muted' }, '—');
  return h('ul', { class: 'tags' }, entries.map(([key, value]) => h('li', { class: 'tag' }, value === '' ? key : `${key}=${value}`)));
}

export function message(container, text, kind = 'error') {
  put(container, h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text));
}

/**
 * Runs `task` now and then every `ms` (a number, or a function answering one) while the tab is visible; `task`
 * answering false stops it. At most one run is in flight or waiting at a time, however often the tab is shown again.
 */
export function every(ms, task) {
  let timer = null;
  let running = false;
  let stopped = false;
  const run = async () => {
    timer = null;
    if (stopped || running || document.hidden) return;
    running = true;
    let more = true;
    try {
      more = (await task()) !== false;
    } catch (error) {
      console.warn(error);
    } finally {
      running = false;
    }
    if (!more) stopped = true;
    if (!stopped && timer === null) timer = setTimeout(run, typeof ms === 'function' ? ms() : ms);
  };
  const shown = () => {
    if (!document.hidden && !stopped && !running && timer === null) run();
  };
  document.addEventListener('visibilitychange', shown);
  run();
  return {
    stop: () => {
      stopped = true;
      clearTimeout(timer);
      timer = null;
      document.removeEventListener('visibilitychange', shown);
    },
  };
}
