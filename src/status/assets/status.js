// batchwatch status page: fetches the page's content again every few seconds and swaps it in, keeping the scroll position.
(function () {
  'use strict';
  var main = document.getElementById('status');
  if (!main || !window.fetch) return;
  var seconds = Math.max(1, Number(main.getAttribute('data-refresh')) || 10);
  var path = main.getAttribute('data-fragment') || '/status/fragment';
  var state = document.getElementById('refresh-state');
  var timer = null;

  function say(text, failed) {
    if (!state) return;
    state.textContent = text;
    state.className = failed ? 'failed' : '';
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, seconds * 1000);
  }

  function swap(text) {
    var template = document.createElement('template');
    template.innerHTML = text;
    var fresh = template.content.getElementById('status-content');
    var current = document.getElementById('status-content');
    if (!fresh || !current) throw new Error('unexpected answer');
    var x = window.scrollX;
    var y = window.scrollY;
    current.replaceWith(fresh);
    window.scrollTo(x, y);
    var title = fresh.getAttribute('data-title');
    if (title) document.title = title;
  }

  function refresh() {
    // A hidden tab does not refresh; it catches up when shown again.
    if (document.hidden) return;
    fetch(path, { headers: { Accept: 'text/html' }, cache: 'no-store', credentials: 'same-origin' })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.text();
      })
      .then(function (text) {
        swap(text);
        say('', false);
      })
      .catch(function (error) {
        say('(could not refresh: ' + (error && error.message ? error.message : 'unknown error') + '; showing older data)', true);
      })
      .then(schedule);
  }

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden) refresh();
  });
  schedule();
})();
