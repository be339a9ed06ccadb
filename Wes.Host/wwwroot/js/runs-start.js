// The runs list's first request, sent by this small script as soon as the page arrives; the list takes its answer
// when its own modules have loaded, so the first rows do not wait for every module to arrive and compile first.
// An async module may run after the page's own modules; then the list has already asked, and this stays quiet.
// api.js imports nothing and the page preloads it, so importing it here costs no extra round trip.
import { BASE, RUN_FILTERS, token } from './api.js';

const address = new URLSearchParams(location.search);
const wanted = new URLSearchParams();
for (const name of RUN_FILTERS) {
  const value = (address.get(name) || '').trim();
  if (value) wanted.set(name, value);
}
wanted.set('page_size', (address.get('page_size') || '50').trim());
const bearer = token.get();
if (!window.wesRunsPageStarted) {
  window.wesFirstRuns = {
    query: wanted.toString(),
    response: fetch(`${BASE}/dashboard/runs?${wanted}`, {
      headers: bearer ? { Authorization: `Bearer ${bearer}` } : {},
      cache: 'no-store',
    }).catch(() => null),
  };
}
