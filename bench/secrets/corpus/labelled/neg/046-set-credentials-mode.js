fetch(url, { credentials: 'same-origin' });
