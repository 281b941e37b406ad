/* global document, fetch, setTimeout */
// Progressive enhancement, nothing more: regions marked data-poll refresh themselves from the
// server until it says the work is done. Without this script the page offers a refresh link.
'use strict';

function poll(region) {
  const url = region.getAttribute('data-poll');
  const tick = async () => {
    try {
      const response = await fetch(url, { credentials: 'same-origin', headers: { accept: 'text/html' } });
      if (!response.ok) return;
      region.innerHTML = await response.text();
      if (response.headers.get('x-poll-done') === '1') {
        region.removeAttribute('data-poll');
        return;
      }
    } catch {
      // A dropped request is retried on the next tick.
    }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 1000);
}

document.addEventListener('DOMContentLoaded', () => {
  for (const region of document.querySelectorAll('[data-poll]')) poll(region);
});
