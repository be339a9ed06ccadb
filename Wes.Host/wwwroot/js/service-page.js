// The service: engines and versions, providers, executors, queue depth, runs per state and a chart of runs finished
// per hour by final state, all from service-info and the finished-per-hour extension.
import { api } from './api.js';
import { $, put, STATES, TERMINAL, badge, every, h, message, table } from './format.js';
import { frame } from './layout.js';

frame('Service');

const COLORS = { COMPLETE: '#1a7f37', EXECUTOR_ERROR: '#cf222e', SYSTEM_ERROR: '#8250df', CANCELED: '#6e7781', PREEMPTED: '#bc4c00' };
let chartTag = null;
let chart = null;

every(5000, async () => {
  await Promise.all([loadInfo(), loadChart()]);
});

async function loadInfo() {
  let answer;
  try {
    answer = await api('service-info');
  } catch (error) {
    message($('service-status'), error.message);
    return;
  }
  const info = answer.data;
  const tags = info.tags || {};
  const counts = info.system_state_counts || {};
  $('service-status').textContent = `${info.name} ${info.version}, WES ${(info.supported_wes_versions || []).join(', ')}`;
  // Every provider a run may pick, default included, as a comma-separated tag.
  const providers = (tags.providers || '').split(',').map((p) => p.trim()).filter(Boolean);
  put($('cards'), 
    card('Queue depth', counts.QUEUED ?? 0, 'runs QUEUED, all users'),
    card('Executing', tags.runs_executing ?? '—', `of ${tags.executor_workers_total ?? '—'} workers`),
    card('Executors alive', tags.executors_alive ?? '—', 'beat within one lease'),
    card('Providers', providers.join(', ') || '—', tags.provider ? `default: ${tags.provider}` : ''));

  const engines = Object.entries(info.workflow_engine_versions || {});
  const types = Object.entries(info.workflow_type_versions || {});
  put($('engines'), 
    table(['Engine', 'Versions'], engines.map(([name, v]) => [name, (v.workflow_engine_version || []).join(', ')])),
    table(['Workflow type', 'Versions'], types.map(([name, v]) => [name, (v.workflow_type_version || []).join(', ')])),
    tags.missing_engines ? h('p', { class: 'small muted' }, `Registered but not installed: ${tags.missing_engines}`) : null);
  // service-info counts every user's runs; the runs list shows only the caller's, so the link says so.
  put($('counts'),
    h('p', { class: 'small muted' }, 'Counts over all users\' runs. Each state links to the runs list, which shows only the runs you may see.'),
    table(['State', 'Runs (all users)'], STATES.filter((s) => s in counts).map((s) => [
      h('a', { href: `/?state=${s}`, 'aria-label': `${s} runs you may see` }, badge(s)), counts[s].toLocaleString()])));
  const details = Object.entries(tags).filter(([key]) => !['runs_executing', 'executor_workers_total', 'executors_alive'].includes(key));
  put($('details'), h('dl', { class: 'facts' }, details.map(([key, value]) => [h('dt', {}, key), h('dd', {}, value)])));
}

function card(title, value, note) {
  return h('section', { class: 'card', 'aria-label': title },
    h('h2', {}, title), h('p', { class: 'value' }, String(value)), h('p', { class: 'small muted' }, note));
}

async function loadChart() {
  const answer = await api('dashboard/finished-per-hour?hours=24', { etag: chartTag });
  if (answer.notModified) return;
  chartTag = answer.etag;
  const buckets = answer.data.buckets;
  const hours = buckets.map((b) => Date.parse(b.hour) / 1000);
  const series = TERMINAL.map((state) => buckets.map((b) => b.counts[state] ?? 0));
  put($('chart-table'), table(['Hour (UTC)', ...TERMINAL],
    buckets.filter((b) => Object.keys(b.counts).length).map((b) => [b.hour.slice(0, 13) + ':00', ...TERMINAL.map((s) => b.counts[s] ?? 0)])));
  if (!window.uPlot) return;
  const data = [hours, ...series];
  if (chart) {
    chart.setData(data);
    return;
  }
  const width = Math.min(900, $('chart').clientWidth || 600);
  chart = new window.uPlot({
    width,
    height: 220,
    scales: { x: { time: true } },
    axes: [{}, { label: 'runs', values: (_, ticks) => ticks.map((t) => (Number.isInteger(t) ? t : '')) }],
    series: [{}, ...TERMINAL.map((state) => ({
      label: state, stroke: COLORS[state], width: 2, points: { show: true, size: 5 },
    }))],
  }, data, $('chart'));
  new ResizeObserver(() => chart.setSize({ width: Math.min(900, $('chart').clientWidth), height: 220 })).observe($('chart'));
}
