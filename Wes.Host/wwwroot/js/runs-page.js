// The runs list: newest first, filtered by state, tag and text, paged with the server's keyset tokens, kept live by
// polling the current page with its ETag (a 304 while nothing changed).
import { RUN_FILTERS, api } from './api.js';
import { put, STATES, badge, h, message, runDuration, tagChips, tickDurations, time, every, workflowName } from './format.js';
import { frame } from './layout.js';

frame('Runs');
tickDurations();

const form = document.getElementById('filters');
const body = document.querySelector('#runs tbody');
const status = document.getElementById('list-status');
const older = document.getElementById('older');
const newer = document.getElementById('newer');
const pageNumber = document.getElementById('page-number');
const stateSelect = document.getElementById('filter-state');
for (const state of STATES) stateSelect.append(h('option', { value: state }, state));
// What the form and the address hold: the filters and the page size.
const FIELDS = [...RUN_FILTERS, 'page_size'];

// Tokens of the pages before the current one; the current page's token is the last entry (the first page has '').
let tokens = [''];
let etag = null;
let next = '';
// The filters of the last Apply (or of the address): typing into the form changes nothing until it is applied.
let applied = new URLSearchParams();
// Only the first refresh may take runs-start.js's answer; one arriving later may be for filters no longer shown.
let firstRefresh = true;
window.wesRunsPageStarted = true;

readFiltersFromAddress();
applied = formFilters();
// A text or tag search may read many rows to fill a page, so a filtered list is polled less often.
const poller = every(() => (applied.has('q') || applied.has('tag') ? 15_000 : 3000), refresh);

form.addEventListener('submit', (event) => {
  event.preventDefault();
  restart();
});
form.addEventListener('change', (event) => {
  if (event.target.tagName === 'SELECT') restart();
});
form.addEventListener('reset', () => setTimeout(restart));
older.addEventListener('click', () => { tokens.push(next); load(); });
newer.addEventListener('click', () => { tokens.pop(); load(); });

function restart() {
  applied = formFilters();
  tokens = [''];
  writeFiltersToAddress();
  load();
}

function load() {
  etag = null;
  refresh();
}

function formFilters() {
  const params = new URLSearchParams();
  const data = new FormData(form);
  for (const name of FIELDS) {
    const value = String(data.get(name) || '').trim();
    if (value) params.set(name, value);
  }
  return params;
}

function query() {
  const params = new URLSearchParams(applied);
  const current = tokens[tokens.length - 1];
  if (current) params.set('page_token', current);
  return params;
}

async function refresh() {
  const asked = query().toString();
  let answer;
  try {
    answer = (await firstAnswer(asked)) ?? await api(`dashboard/runs?${asked}`, { etag });
  } catch (error) {
    message(status, error.message);
    return;
  }
  // A newer request (another filter, another page) may have been sent meanwhile.
  if (asked !== query().toString() || answer.notModified) return;
  etag = answer.etag;
  render(answer.data);
}

/** The answer runs-start.js already asked for, taken once, if it asked for the same and was let in. */
async function firstAnswer(asked) {
  const first = firstRefresh ? window.wesFirstRuns : null;
  firstRefresh = false;
  window.wesFirstRuns = null;
  if (!first || first.query !== asked) return null;
  const response = await first.response;
  // Refused (no token yet, or another's): the usual path asks for a token and tries again.
  if (!response || !response.ok) return null;
  return { data: await response.json(), etag: response.headers.get('ETag') };
}

function render(page) {
  next = page.next_page_token;
  older.disabled = !next;
  newer.disabled = tokens.length <= 1;
  pageNumber.textContent = `Page ${tokens.length}`;
  // A text or tag search reads a bounded number of runs per page, so a page may be short or empty with older ones left.
  status.textContent = page.runs.length === 0
    ? (next ? 'No matches among the runs searched so far; Older searches further back.' : tokens.length > 1 ? 'No more runs.' : 'No runs match.')
    : `${page.runs.length} run${page.runs.length === 1 ? '' : 's'} on this page, newest first; updates live.`;
  put(body, ...page.runs.map(row));
  // Marks the first rows on screen, for measuring the page's first render (see docs/benchmarks.md).
  if (performance.getEntriesByName('wes:runs-rendered').length === 0) performance.mark('wes:runs-rendered');
}

function row(run) {
  return h('tr', { 'data-run-id': run.run_id, 'data-state': run.state },
    h('td', {}, h('a', { href: `/ui/runs/${encodeURIComponent(run.run_id)}`, class: 'mono' }, run.run_id.slice(0, 8)),
      h('span', { class: 'visually-hidden' }, ` ${run.run_id}`)),
    h('td', {}, badge(run.state)),
    h('td', {}, h('span', { class: 'workflow', title: run.workflow_url }, workflowName(run.workflow_url)),
      h('span', { class: 'muted small' }, ` ${run.workflow_type} ${run.workflow_type_version}`)),
    h('td', { class: 'wide' }, run.engine),
    h('td', { class: 'wide' }, tagChips(run.tags)),
    h('td', {}, time(run.submitted_time)),
    h('td', {}, runDuration(run.start_time, run.end_time)));
}

function readFiltersFromAddress() {
  const params = new URLSearchParams(location.search);
  for (const name of FIELDS) {
    if (params.has(name)) form.elements[name].value = params.get(name);
  }
}

function writeFiltersToAddress() {
  const params = query();
  params.delete('page_token');
  history.replaceState(null, '', params.size ? `/?${params}` : '/');
}

window.addEventListener('pagehide', () => poller.stop());
