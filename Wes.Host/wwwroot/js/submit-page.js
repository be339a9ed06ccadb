// The submit form: a workflow file (or URL), a folder of attachments kept with their relative paths, params as
// JSON or YAML checked before sending, tags and engine; a multipart POST /runs, then the new run's page.
import { api, errorMessage } from './api.js';
import { $, put, h, message } from './format.js';
import { frame } from './layout.js';

frame('Submit');

const form = $('submit-form');
let info = null;
let yaml = null;

loadServiceInfo();
$('workflow-type').addEventListener('change', fillVersions);
$('attachments').addEventListener('change', listAttachments);
$('params').addEventListener('input', () => checkParams());
$('tags').addEventListener('input', () => checkTags());
for (const radio of form.elements.params_format) radio.addEventListener('change', () => checkParams());
form.addEventListener('submit', submit);

async function loadServiceInfo() {
  try {
    info = (await api('service-info')).data;
  } catch (error) {
    message($('submit-result'), error.message);
    return;
  }
  const types = Object.keys(info.workflow_type_versions || {}).sort();
  put($('workflow-type'), ...types.map((type) => h('option', { value: type }, type)));
  for (const engine of Object.keys(info.workflow_engine_versions || {}).sort()) {
    $('workflow-engine').append(h('option', { value: engine }, engine));
  }
  fillVersions();
}

function fillVersions() {
  const versions = info?.workflow_type_versions?.[$('workflow-type').value]?.workflow_type_version || [];
  put($('workflow-type-version'), ...versions.map((v) => h('option', { value: v }, v)));
  // The newest version is the likeliest; lists are in the server's order, oldest first.
  if (versions.length) $('workflow-type-version').value = versions[versions.length - 1];
}

/** Attachments named by their path below the chosen folder, so the workflow file and the folder's files sit side by side. */
function attachments() {
  return Array.from($('attachments').files).map((file) => {
    const path = file.webkitRelativePath || file.name;
    return { file, name: path.includes('/') ? path.slice(path.indexOf('/') + 1) : path };
  });
}

function listAttachments() {
  const files = attachments();
  $('attachment-list').textContent = files.length
    ? `${files.length} file${files.length === 1 ? '' : 's'}: ${files.slice(0, 20).map((f) => f.name).join(', ')}${files.length > 20 ? ', …' : ''}`
    : '';
}

/** The params as an object, or null after saying what is wrong with them. */
async function checkParams() {
  const text = $('params').value.trim();
  const format = form.elements.params_format.value;
  const problem = $('params-error');
  let value;
  try {
    if (!text) value = {};
    else if (format === 'json') value = JSON.parse(text);
    else {
      yaml ??= await import('../vendor/js-yaml.min.mjs');
      value = yaml.load(text);
    }
  } catch (error) {
    return invalid(problem, $('params'), `Not valid ${format.toUpperCase()}: ${error.message.split('\n')[0]}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return invalid(problem, $('params'), 'workflow_params must be an object (a mapping of input names to values).');
  }
  return valid(problem, $('params'), value);
}

function checkTags() {
  const tags = {};
  const problem = $('tags-error');
  const lines = $('tags').value.split('\n').map((line) => line.trim()).filter(Boolean);
  for (const [i, line] of lines.entries()) {
    const equals = line.indexOf('=');
    const key = (equals < 0 ? line : line.slice(0, equals)).trim();
    if (!key) return invalid(problem, $('tags'), `Line ${i + 1} has no key; write key=value.`);
    if (key in tags) return invalid(problem, $('tags'), `The tag '${key}' is given twice.`);
    tags[key] = equals < 0 ? '' : line.slice(equals + 1).trim();
  }
  return valid(problem, $('tags'), tags);
}

function invalid(problem, field, text) {
  problem.textContent = text;
  field.setAttribute('aria-invalid', 'true');
  return null;
}

function valid(problem, field, value) {
  problem.textContent = '';
  field.removeAttribute('aria-invalid');
  return value;
}

async function submit(event) {
  event.preventDefault();
  const result = $('submit-result');
  result.replaceChildren();
  const params = await checkParams();
  const tags = checkTags();
  const workflowFile = $('workflow-file').files[0];
  const workflowUrl = $('workflow-url').value.trim();
  if (!workflowFile && !workflowUrl) {
    message(result, 'Choose a workflow file or give a workflow URL.');
    $('workflow-file').focus();
    return;
  }
  if (params === null || tags === null) {
    (params === null ? $('params') : $('tags')).focus();
    return;
  }

  const body = new FormData();
  body.append('workflow_type', $('workflow-type').value);
  body.append('workflow_type_version', $('workflow-type-version').value);
  if ($('workflow-engine').value) body.append('workflow_engine', $('workflow-engine').value);
  body.append('workflow_params', JSON.stringify(params));
  body.append('tags', JSON.stringify(tags));
  const names = new Set();
  if (workflowFile) {
    body.append('workflow_url', workflowFile.name);
    body.append('workflow_attachment', workflowFile, workflowFile.name);
    names.add(workflowFile.name);
  } else {
    body.append('workflow_url', workflowUrl);
  }
  // The chosen folder may hold the workflow file itself; it is sent once.
  for (const { file, name } of attachments()) {
    if (!names.has(name)) body.append('workflow_attachment', file, name);
    names.add(name);
  }

  const button = $('submit');
  button.disabled = true;
  button.textContent = 'Submitting…';
  try {
    const response = await api('runs', { method: 'POST', body, raw: true });
    if (!response.ok) {
      message(result, await errorMessage(response));
      return;
    }
    const { run_id: runId } = await response.json();
    location.assign(`/ui/runs/${encodeURIComponent(runId)}`);
  } catch (error) {
    message(result, error.message);
  } finally {
    button.disabled = false;
    button.textContent = 'Submit run';
  }
}
