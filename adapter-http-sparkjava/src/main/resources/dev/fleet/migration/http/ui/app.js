// Fleet → Migrations: the Control Panel. Plain JavaScript, no dependencies, served from the jar.
(function () {
  'use strict';
  var STEPS = ['pending', 'snapshotting', 'transferring', 'restoring', 'cutover', 'done'];
  var TOKEN_KEY = 'fleet.operatorToken';
  var params = new URLSearchParams(window.location.search);
  var refreshMs = Math.max(200, parseInt(params.get('refresh') || '5000', 10) || 5000);
  var PAGE = 1000;          // the API's largest page: active migrations are read in pages this big
  var FINISHED_STEP = 100;
  // rows go in tables of CHUNK with the header's columns; off-screen tables are skipped by the
  // browser's layout and paint (content-visibility: auto), so 1,000 rows cost about a screenful
  var CHUNK = 50;
  var COLUMNS = '<colgroup><col class="app"><col class="route"><col class="bar"><col class="state">' +
    '<col class="details"><col class="actions"></colgroup>';  // finished migrations shown at first, and added by "Show more"
  var finishedLimit = FINISHED_STEP;
  var timer = null;
  var nodesLoaded = false;
  var lastHtml = null;
  var $ = function (id) { return document.getElementById(id); };

  // refreshes: completed loads; renders: loads that changed the table; firstRowsMs: ms since
  // navigation start when the first loaded table had been painted (read by the benchmark)
  window.fleetPanel = { refreshMs: refreshMs, refreshes: 0, renders: 0, firstRowsMs: null, rows: 0 };

  function token() { return sessionStorage.getItem(TOKEN_KEY); }

  function askForToken(message) {
    stop();
    $('panel').hidden = true;
    $('forget-token').hidden = true;
    $('token-panel').hidden = false;
    $('token-error').textContent = message || '';
    $('token-input').focus();
  }

  function api(method, path, body) {
    return call(method, path, body).then(function (r) { return r.json; });
  }

  function call(method, path, body) {
    var init = { method: method, headers: { 'Authorization': 'Bearer ' + token(), 'Accept': 'application/json' } };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var json = null;
        try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
        if (res.status === 401 || res.status === 403) {
          sessionStorage.removeItem(TOKEN_KEY);
          askForToken((json && json.detail) || 'The token was refused.');
          throw new Error('token refused');
        }
        if (!res.ok) { throw new Error((json && json.detail) || ('HTTP ' + res.status)); }
        return { json: json, headers: res.headers };
      });
    });
  }

  function bytes(n) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var u = 0;
    while (n >= 1024 && u < units.length - 1) { n /= 1024; u++; }
    return (u === 0 ? n : n.toFixed(1)) + ' ' + units[u];
  }

  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function bar(m) {
    var failedAt = m.failure ? STEPS.indexOf(m.failure.failedIn) : -1;
    var at = m.state === 'failed' ? failedAt : STEPS.indexOf(m.state);
    var html = '<ol class="steps" aria-label="progress">';
    for (var i = 0; i < STEPS.length; i++) {
      var cls = 'todo';
      var fill = '';
      if (m.state === 'done' || i < at) { cls = 'done'; }
      else if (i === at && m.state === 'failed') { cls = 'failed'; }
      else if (i === at) {
        cls = 'current';
        fill = '<div class="fill" style="width:' + Math.round((m.progress.fraction || 0) * 100) + '%"></div>';
      }
      html += '<li class="step ' + cls + '" data-step="' + STEPS[i] + '">' + fill + '<span>' + STEPS[i] + '</span></li>';
    }
    return html + '</ol>';
  }

  function details(m) {
    if (m.state === 'failed' && m.failure) {
      return '<span class="reason">' + esc(m.failure.reason) + '</span>';
    }
    var parts = [];
    var p = m.progress;
    if (m.active && p && p.bytesTotal > 0) {
      var t = '<span class="transfer">' + bytes(p.bytesDone) + ' / ' + bytes(p.bytesTotal);
      if (p.bytesPerSecond > 0) { t += ' · <span class="rate">' + bytes(p.bytesPerSecond) + '/s</span>'; }
      parts.push(t + '</span>');
    }
    if (m.state === 'done' && m.downtimeMs != null) { parts.push('downtime ' + m.downtimeMs + ' ms'); }
    if (m.detail && m.active) { parts.push('<span class="muted">' + esc(m.detail) + '</span>'); }
    return parts.join('<br>');
  }

  function row(m) {
    return '<tr data-id="' + esc(m.id) + '" data-state="' + esc(m.state) + '">' +
      '<td><div class="app">' + esc(m.app) + '</div><div class="id">' + esc(m.id) + '</div></td>' +
      '<td>' + esc(m.source) + ' → ' + esc(m.target) + '</td>' +
      '<td>' + bar(m) + '</td>' +
      '<td class="state">' + esc(m.state) + '</td>' +
      '<td class="details">' + details(m) + '</td>' +
      '<td>' + (m.active ? '<button type="button" class="abort" data-id="' + esc(m.id) + '">Abort</button>' : '') + '</td>' +
      '</tr>';
  }

  /** One page of the listing: its migrations and X-Total-Count. */
  function page(query) {
    return call('GET', '/api/migrations?' + query).then(function (r) {
      var total = parseInt(r.headers.get('X-Total-Count'), 10);
      return { items: r.json || [], total: isNaN(total) ? (r.json || []).length : total };
    });
  }

  /** Every active migration, page after page (one page unless more than a thousand run at once). */
  function activeMigrations() {
    var all = [];
    function next(offset) {
      return page('state=active&limit=' + PAGE + '&offset=' + offset).then(function (p) {
        all = all.concat(p.items);
        return p.items.length > 0 && offset + p.items.length < p.total ? next(offset + p.items.length) : all;
      });
    }
    return next(0);
  }

  function count(n) { return Number(n).toLocaleString('en'); }

  /**
   * Every active migration, then the newest finished ones. The whole table is one string set
   * with one innerHTML (one layout, whatever the row count), and only when it changed, so a
   * quiet refresh touches nothing.
   */
  function render(active, finished) {
    var began = performance.now();
    // a migration that ended between the two reads is in both: show it once, as it ended
    var ended = {};
    finished.items.forEach(function (m) { ended[m.id] = true; });
    active = active.filter(function (m) { return !ended[m.id]; });
    var all = active.map(row).concat(finished.items.map(row));
    var chunks = [];
    for (var i = 0; i < all.length; i += CHUNK) {
      chunks.push('<table class="chunk">' + COLUMNS + '<tbody>' + all.slice(i, i + CHUNK).join('') + '</tbody></table>');
    }
    var html = chunks.join('');
    var rows = all.length;
    if (html !== lastHtml) {
      $('rows').innerHTML = html;
      lastHtml = html;
      window.fleetPanel.renders++;
    }
    $('empty').hidden = rows > 0;
    $('summary').hidden = rows === 0;
    $('active-count').textContent = count(active.length);
    $('finished-shown').textContent = count(finished.items.length);
    $('finished-total').textContent = count(finished.total);
    $('more').hidden = finished.items.length >= finished.total || finishedLimit >= PAGE;
    $('updated').textContent = 'last update ' + new Date().toLocaleTimeString();
    window.fleetPanel.rows = rows;
    window.fleetPanel.refreshes++;
    if (window.fleetPanel.firstRowsMs === null) {
      window.fleetPanel.firstDataMs = began;                   // both pages had arrived
      window.fleetPanel.firstBuiltMs = performance.now();      // the rows were in the DOM
      // a rAF callback runs just before the frame is painted; a task queued from it runs after
      requestAnimationFrame(function () {
        setTimeout(function () { window.fleetPanel.firstRowsMs = performance.now(); }, 0);
      });
    }
  }

  function refresh() {
    return Promise.all([activeMigrations(), page('state=terminal&limit=' + finishedLimit)]).then(function (r) {
      render(r[0], r[1]);
    }).catch(function (e) {
      if (e.message !== 'token refused') { $('form-error').textContent = 'Cannot load migrations: ' + e.message; }
    });
  }

  function loadNodes() {
    return api('GET', '/api/nodes').then(function (nodes) {
      var opts = nodes.map(function (n) { return '<option value="' + esc(n.id) + '">' + esc(n.id) + '</option>'; }).join('');
      $('source-node').innerHTML = opts;
      $('target-node').innerHTML = opts;
      if (nodes.length > 1) { $('target-node').selectedIndex = 1; }
      nodesLoaded = true;
    });
  }

  function stop() { if (timer) { clearInterval(timer); timer = null; } }

  function showPanel() {
    $('token-panel').hidden = true;
    $('panel').hidden = false;
    $('forget-token').hidden = false;
    $('refresh-s').textContent = String(refreshMs / 1000);
    // the node selects and the table load side by side
    if (!nodesLoaded) { loadNodes().catch(function () {}); }
    refresh();
    stop();
    timer = setInterval(refresh, refreshMs);
  }

  $('token-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var t = $('token-input').value.trim();
    if (!t) { return; }
    sessionStorage.setItem(TOKEN_KEY, t);
    $('token-input').value = '';
    showPanel();
  });

  $('forget-token').addEventListener('click', function () {
    sessionStorage.removeItem(TOKEN_KEY);
    askForToken('');
  });

  $('start-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    $('form-error').textContent = '';
    var body = { app: $('app-id').value.trim(), source: $('source-node').value, target: $('target-node').value };
    $('start').disabled = true;
    api('POST', '/api/migrations', body).then(function () {
      $('app-id').value = '';
      return refresh();
    }).catch(function (e) {
      if (e.message !== 'token refused') { $('form-error').textContent = e.message; }
    }).then(function () { $('start').disabled = false; });
  });

  $('more').addEventListener('click', function () {
    finishedLimit = Math.min(PAGE, finishedLimit + FINISHED_STEP);
    refresh();
  });

  $('rows').addEventListener('click', function (ev) {
    var b = ev.target.closest('button.abort');
    if (!b) { return; }
    b.disabled = true;
    api('POST', '/api/migrations/' + encodeURIComponent(b.getAttribute('data-id')) + '/fail',
      { reason: 'operator pressed Abort in the Control Panel' }).then(refresh).catch(function (e) {
      if (e.message !== 'token refused') { $('form-error').textContent = e.message; }
      b.disabled = false;
    });
  });

  if (token()) { showPanel(); } else { askForToken(''); }
})();
