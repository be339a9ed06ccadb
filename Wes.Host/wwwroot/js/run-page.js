// One run: its request, state timeline, attempts, tasks, live logs, outputs and system logs, and a cancel button.
import { BASE, api, download, fetchPages } from './api.js';
import { $, put, CANCELABLE, badge, duration, every, h, isTerminal, message, runDuration, table, tagChips, tickDurations, time } from './format.js';
import { frame } from './layout.js';
import { LogView } from './log-view.js';

frame('Runs');
tickDurations();

const runId = decodeURIComponent(location.pathname.split('/').pop());
const runPath = `runs/${encodeURIComponent(runId)}`;
document.title = `Run ${runId.slice(0, 8)} · WES`;
$('run-id').textContent = runId;

const logView = new LogView($('log-view'));
let stream = 'stderr';
// The state whose tasks and outputs are on the page: it changes only once everything for the new state has rendered,
// so a request failing on the tick a run ends is tried again on the next one instead of leaving outputs unshown.
let state = null;
let historyTag = null;
let logsShown = false;
let gone = false;
// The engine the server chose, from the history, for a request that named none.
let engine = null;

for (const name of ['stdout', 'stderr']) {
  $(`tab-${name}`).addEventListener('click', () => showStream(name));
}
document.querySelector('[role=tablist]').addEventListener('keydown', (event) => {
  if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
    const other = stream === 'stdout' ? 'stderr' : 'stdout';
    showStream(other);
    $(`tab-${other}`).focus();
  }
});

$('cancel').addEventListener('click', () => {
  // The dialog keeps the last answer; without this, Escape after an earlier "cancel" would cancel again.
  $('cancel-dialog').returnValue = '';
  $('cancel-dialog').showModal();
});
$('cancel-dialog').addEventListener('close', async () => {
  if ($('cancel-dialog').returnValue !== 'cancel') return;
  try {
    await api(`${runPath}/cancel`, { method: 'POST' });
    message($('run-status'), 'Cancel requested.', 'info');
    await refresh();
  } catch (error) {
    message($('run-status'), error.message);
  }
});

every(2000, async () => {
  await refresh();
  if (gone) return false;
  // Logs follow while the run goes on; one more read after it ends picks up the last lines.
  if ($('follow').checked || !logsShown) await logView.poll();
  logsShown = true;
  return !isTerminal(state);
});

function showStream(name) {
  stream = name;
  for (const other of ['stdout', 'stderr']) {
    $(`tab-${other}`).setAttribute('aria-selected', String(other === name));
    $(`tab-${other}`).tabIndex = other === name ? 0 : -1;
  }
  $('log-source').textContent = `${name} of the current execution`;
  logView.show(`${runPath}/${name}`);
}

async function refresh() {
  let log;
  try {
    log = (await api(runPath)).data;
  } catch (error) {
    message($('run-status'), error.message);
    // An unknown run stays unknown; anything else (a restart, a network hiccup) is tried again.
    if (error.status === 404) gone = true;
    return;
  }
  const current = log.state;
  const changed = current !== state;
  put($('run-state'), badge(current));
  $('cancel').hidden = !CANCELABLE.includes(current);
  if (!logView.path) showStream(stream);
  const history = await api(`${runPath}/history`, { etag: historyTag });
  if (!history.notModified) {
    historyTag = history.etag;
    engine = history.data.engine;
    renderTimeline(history.data);
  }
  renderRequest(log.request || {});
  renderSystemLogs(log.run_log?.system_logs || []);
  if (changed || !isTerminal(current)) {
    await renderTasks();
  }
  if (changed) await renderOutputs(log.outputs, current);
  state = current;
}

function renderRequest(request) {
  const rows = [
    ['Type', `${request.workflow_type ?? ''} ${request.workflow_type_version ?? ''}`],
    ['Workflow URL', h('code', {}, request.workflow_url ?? '')],
    ['Engine', [request.workflow_engine || `default${engine ? ` (${engine})` : ''}`, request.workflow_engine_version ? ` ${request.workflow_engine_version}` : '']],
    ['Tags', tagChips(request.tags)],
  ];
  if (request.workflow_engine_parameters && Object.keys(request.workflow_engine_parameters).length) {
    rows.push(['Engine parameters', h('pre', { class: 'json' }, JSON.stringify(request.workflow_engine_parameters, null, 2))]);
  }
  rows.push(['Parameters', h('pre', { class: 'json', tabindex: 0 }, JSON.stringify(request.workflow_params ?? {}, null, 2))]);
  put($('request'), h('dl', { class: 'facts' }, rows.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])));
}

function renderTimeline(history) {
  const transitions = history.transitions;
  const items = transitions.map((change, i) => {
    const nextTime = transitions[i + 1]?.time;
    const last = i === transitions.length - 1;
    // The last state lasts until now unless it is final.
    const length = nextTime || (last && !isTerminal(change.to_state)) ? runDuration(change.time, nextTime) : null;
    return h('li', {},
      badge(change.to_state), ' ', time(change.time),
      length ? h('span', { class: 'muted' }, ' for ', length) : null,
      change.reason ? h('div', { class: 'small muted' }, change.reason, change.actor ? ` (${change.actor})` : '') : null);
  });
  const first = transitions[0]?.time;
  const end = isTerminal(history.state) ? transitions[transitions.length - 1]?.time : null;
  put($('timeline'), 
    h('ol', { class: 'timeline', 'aria-label': 'State changes, oldest first' }, items),
    first ? h('p', { class: 'small' }, 'Total ', runDuration(first, end), ` since submission (${history.provider}, ${history.engine}${history.engine_version ? ' ' + history.engine_version : ''})`) : null);
  const earlier = Array.from({ length: history.earlier_executions }, (_, i) => i + 1);
  put($('attempts'), 
    h('h3', {}, 'Attempts'),
    h('p', {}, `Execution ${history.attempt}`, history.earlier_executions ? `; ${history.earlier_executions} earlier execution${history.earlier_executions === 1 ? '' : 's'} retried or re-queued` : '; no retries'),
    earlier.length ? h('ul', { class: 'plain' }, earlier.map((n) => h('li', {}, `Execution ${n}: `,
      viewButton(`${runPath}/attempts/${n}/stdout`, `stdout of execution ${n}`), ' ',
      viewButton(`${runPath}/attempts/${n}/stderr`, `stderr of execution ${n}`)))) : null);
}

/** A button that shows a finished log (an earlier execution's, a task's) in the log view, without following it. */
function viewButton(path, label) {
  return h('button', {
    type: 'button', class: 'link',
    onclick: () => {
      $('follow').checked = false;
      for (const name of ['stdout', 'stderr']) $(`tab-${name}`).setAttribute('aria-selected', 'false');
      $('log-source').textContent = label;
      logView.show(path);
      $('log-view').focus();
    },
  }, label.split(' ')[0]);
}

async function renderTasks() {
  // A run has few tasks in practice; past 1,000 the rest are left to the API.
  const tasks = await fetchPages(`${runPath}/tasks`, 'task_logs');
  if (tasks.length === 0) {
    put($('tasks'), h('p', { class: 'muted' }, 'No tasks reported yet.'));
    return;
  }
  put($('tasks'), table(['Task', 'State', 'Exit code', 'Started', 'Duration', 'Logs'], tasks.map((task) => [
    [task.name, h('div', { class: 'small muted mono' }, task.id)],
    taskState(task),
    task.exit_code ?? '—',
    time(task.start_time),
    task.start_time ? (task.end_time ? duration(Date.parse(task.end_time) - Date.parse(task.start_time)) : h('span', { 'data-since': task.start_time }, '')) : '—',
    [task.stdout ? viewButton(new URL(task.stdout).pathname, `stdout of task ${task.name}`) : null, ' ',
      task.stderr ? viewButton(new URL(task.stderr).pathname, `stderr of task ${task.name}`) : null],
  ])));
}

function taskState(task) {
  if (task.end_time || task.exit_code !== undefined) {
    return task.exit_code === 0 || task.exit_code === undefined ? badge('COMPLETE') : badge('EXECUTOR_ERROR');
  }
  return task.start_time ? badge('RUNNING') : badge('QUEUED');
}

async function renderOutputs(outputs, current) {
  const container = $('outputs');
  let files;
  try {
    files = await fetchPages(`${runPath}/outputs`, 'files');
  } catch (error) {
    put(container, h('p', { class: 'muted' }, error.message));
    throw error;
  }
  put(container, 
    files.length === 0
      ? h('p', { class: 'muted' }, isTerminal(current) ? 'No output files.' : 'No output files yet.')
      : h('ul', { class: 'files' }, files.map((file) => h('li', {},
        h('a', {
          href: `${BASE}/${runPath}/outputs/${file.path.split('/').map(encodeURIComponent).join('/')}`,
          download: file.path.split('/').pop(),
          onclick: (event) => {
            event.preventDefault();
            download(`${runPath}/outputs/${file.path.split('/').map(encodeURIComponent).join('/')}`, file.path.split('/').pop())
              .catch((error) => message($('run-status'), error.message));
          },
        }, file.path),
        h('span', { class: 'muted small' }, ` ${formatSize(file.size)}`)))),
    outputs ? h('details', {}, h('summary', {}, 'outputs object'), h('pre', { class: 'json', tabindex: 0 }, JSON.stringify(outputs, null, 2))) : null);
}

function renderSystemLogs(lines) {
  put($('system-logs'), lines.length === 0
    ? h('p', { class: 'muted' }, 'None.')
    : h('ul', { class: 'plain mono small' }, lines.map((line) => h('li', {}, line))));
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
