// batchwatch status page: fetches the page's content again every few seconds and swaps it in, keeping the scroll position.
const main = document.getElementById('status');
const seconds = Math.max(1, Number(main?.getAttribute('data-refresh')) || 10);
const path = main?.getAttribute('data-fragment') || '/status/fragment';
const state = document.getElementById('refresh-state');
let timer;

const say = (text, failed) => {
  if (!state) return;
  state.textContent = text;
  state.className = failed ? 'failed' : '';
};

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
  // A hidden tab does not refresh; it catches up when shown again.
  if (document.hidden) return;
  try {
    const response = await fetch(path, { headers: { Accept: 'text/html' }, cache: 'no-store', credentials: 'same-origin' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    swap(await response.text());
    say('', false);
  } catch (error) {
    say(`(could not refresh: ${error?.message ?? 'unknown error'}; showing older data)`, true);
  }
  schedule();
}

if (main) {
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void refresh();
  });
  schedule();
}
