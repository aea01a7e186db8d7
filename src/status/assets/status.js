// batchwatch status page: fetches the page's content again every few seconds and swaps it in, keeping the scroll position.
const main = document.getElementById('status');
const seconds = Math.max(1, Number(main?.getAttribute('data-refresh')) || 10);
const path = main?.getAttribute('data-fragment') || '/status/fragment';
const state = document.getElementById('refresh-state');
// A request that hangs is given up after this long, so the next refresh still comes.
const timeoutMs = Math.min(seconds, 10) * 1000;
let timer;
// One request at a time; `latest` numbers them so that an answer to an older one never replaces a newer one.
let inFlight = null;
let latest = 0;

const say = (text, failed) => {
  if (!state) return;
  state.textContent = text;
  state.className = failed ? 'failed' : '';
};

const hhmm = (date) => `${String(date.getHours()).padStart(2, '0')}:${String(date.getMinutes()).padStart(2, '0')}`;

const schedule = () => {
  clearTimeout(timer);
  timer = setTimeout(refresh, seconds * 1000);
};

const swap = (text) => {
  const template = document.createElement('template');
  template.innerHTML = text;
  const fresh = template.content.getElementById('status-content');
  const current = document.getElementById('status-content');
  if (!fresh || !current) throw new Error('unexpected answer');
  const [x, y] = [window.scrollX, window.scrollY];
  current.replaceWith(fresh);
  window.scrollTo(x, y);
  const title = fresh.getAttribute('data-title');
  if (title) document.title = title;
};

async function refresh() {
  clearTimeout(timer);
  // A hidden tab does not refresh; it catches up when shown again.
  if (document.hidden) return;
  // A refresh under way (e.g. the tab was shown again meanwhile) is not doubled; its end schedules the next one.
  if (inFlight) return;
  const number = ++latest;
  const controller = new AbortController();
  const giveUp = setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs);
  inFlight = controller;
  try {
    const response = await fetch(path, {
      headers: { Accept: 'text/html' },
      cache: 'no-store',
      credentials: 'same-origin',
      signal: controller.signal,
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const text = await response.text();
    if (number !== latest) return;
    swap(text);
    say('', false);
  } catch (error) {
    if (number !== latest) return;
    const reason = controller.signal.aborted ? controller.signal.reason : error;
    say(`(refresh failed at ${hhmm(new Date())}: ${reason?.message ?? 'unknown error'}; showing older data)`, true);
  } finally {
    clearTimeout(giveUp);
    if (inFlight === controller) inFlight = null;
    schedule();
  }
}

if (main) {
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void refresh();
  });
  schedule();
}
