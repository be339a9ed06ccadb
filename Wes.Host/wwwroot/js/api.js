// Every call the dashboard makes goes through here: the WES API with the token of this browser tab, if any.
export const BASE = '/ga4gh/wes/v1';
// The session storage key of this tab's token; Wes.Bench's DashboardRender sets it too, under the same name.
const TOKEN_KEY = 'wes.token';
// The filters of GET dashboard/runs that the runs list keeps in its address.
export const RUN_FILTERS = ['state', 'tag', 'q'];

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => { sessionStorage.setItem(TOKEN_KEY, value); dispatchEvent(new Event('wes-token')); },
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

// One prompt at a time: calls refused together all wait for the same answer.
let prompting = null;

/**
 * Calls the API. Answers { data, etag } for JSON, { notModified: true } for a 304 when `etag` was given, or the
 * Response itself with `raw`. A 401 or 403 asks for a token and tries again with it.
 */
export async function api(path, { method = 'GET', body, headers = {}, etag, raw = false, signal } = {}) {
  const url = path.startsWith('/') ? path : `${BASE}/${path}`;
  // The token goes only to this server: a path such as //elsewhere/x would resolve to another host.
  if (new URL(url, location.href).origin !== location.origin) throw new ApiError(0, `Refused to call ${url}: not this server.`);
  for (;;) {
    const sent = new Headers(headers);
    const bearer = token.get();
    if (bearer) sent.set('Authorization', `Bearer ${bearer}`);
    if (etag) sent.set('If-None-Match', etag);
    const response = await fetch(url, { method, body, headers: sent, signal, cache: 'no-store' });
    if (response.status === 401 || response.status === 403) {
      await askForToken(await errorMessage(response), response.status);
      continue;
    }
    if (response.status === 304) return { notModified: true, etag };
    if (raw) return response;
    if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
    return { data: await response.json(), etag: response.headers.get('ETag') };
  }
}

export async function errorMessage(response) {
  try {
    const body = await response.json();
    return body.msg || `${response.status} ${response.statusText}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

function askForToken(message, status) {
  prompting ??= new Promise((resolve) => {
    const dialog = tokenDialog();
    dialog.querySelector('#token-reason').textContent = status === 403
      ? `${message} Sign in with a token that may do this.`
      : `${message} This server needs a bearer token.`;
    const input = dialog.querySelector('#token-input');
    input.value = '';
    dialog.querySelector('form').onsubmit = (event) => {
      event.preventDefault();
      if (!input.value.trim()) return;
      token.set(input.value.trim());
      dialog.close();
      prompting = null;
      resolve();
    };
    dialog.showModal();
    input.focus();
  });
  return prompting;
}

function tokenDialog() {
  let dialog = document.getElementById('token-dialog');
  if (dialog) return dialog;
  dialog = document.createElement('dialog');
  dialog.id = 'token-dialog';
  dialog.setAttribute('aria-labelledby', 'token-title');
  dialog.innerHTML = `
    <form method="dialog">
      <h2 id="token-title">Sign in</h2>
      <p id="token-reason" role="alert"></p>
      <label for="token-input">Access token</label>
      <input id="token-input" name="token" type="password" autocomplete="off" required>
      <p class="hint">Kept in this tab only (session storage) and sent as <code>Authorization: Bearer</code>.</p>
      <div class="actions"><button type="submit" class="primary">Sign in</button></div>
    </form>`;
  // Without a token nothing can be shown, so the prompt cannot be dismissed with Escape.
  dialog.addEventListener('cancel', (event) => event.preventDefault());
  document.body.append(dialog);
  return dialog;
}

/** Follows next_page_token from `path`, 250 items a page, collecting each page's `field` up to about `limit` items. */
export async function fetchPages(path, field, limit = 1000) {
  const items = [];
  let next = '';
  do {
    const page = (await api(`${path}?page_size=250${next ? `&page_token=${encodeURIComponent(next)}` : ''}`)).data;
    items.push(...page[field]);
    next = page.next_page_token;
  } while (next && items.length < limit);
  return items;
}

/** Downloads a file through the API (so the token goes with it) and hands it to the browser as a download. */
export async function download(path, name) {
  const response = await api(path, { raw: true });
  if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
