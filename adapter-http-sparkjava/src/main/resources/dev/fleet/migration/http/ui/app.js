// Fleet → Migrations: the Control Panel. Plain JavaScript, no dependencies, served from the jar.
(function () {
  'use strict';
  var STEPS = ['pending', 'snapshotting', 'transferring', 'restoring', 'cutover', 'done'];
  var TOKEN_KEY = 'fleet.operatorToken';
  var params = new URLSearchParams(window.location.search);
  var refreshMs = Math.max(200, parseInt(params.get('refresh') || '5000', 10) || 5000);
  var timer = null;
  var nodesLoaded = false;
  var $ = function (id) { return document.getElementById(id); };

  window.fleetPanel = { refreshMs: refreshMs, refreshes: 0 };

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
        return json;
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

  function render(list) {
    $('rows').innerHTML = list.map(row).join('');
    $('empty').hidden = list.length > 0;
    $('updated').textContent = 'last update ' + new Date().toLocaleTimeString();
    window.fleetPanel.refreshes++;
  }

  function refresh() {
    return api('GET', '/api/migrations').then(render).catch(function (e) {
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
    (nodesLoaded ? Promise.resolve() : loadNodes()).then(refresh).catch(function () {});
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
