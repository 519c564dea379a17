// The usage-ledger dashboard (spec/reports.md §8). Plain browser JavaScript,
// no framework, no build step: served as is (content-hashed) by
// src/dashboard/dashboard.controller.ts. It reads data only through the
// /reports/… routes, with the token typed in, sent as X-Auth-Token and kept
// in sessionStorage (the tab's own storage, dropped when the tab closes).
// Numbers are shown from the answers' decimal strings; where the page must
// add (stacking bars, "other" projects) it adds exactly (decimal below), and
// converts to floating point only to place a bar on the canvas.
(function () {
  'use strict';

  var TOKEN_KEY = 'usage-ledger.token';
  var DATA_REFRESH_MS = 60000;
  var OPS_REFRESH_MS = 15000;
  var OPS_ROLES = ['admin', 'reader', 'service'];
  var TOP_PROJECTS = 10;
  var COST_TITLE = 'Cost over time: the ' + TOP_PROJECTS + ' costliest projects and other';
  var PALETTE = ['#3b6ea5', '#e07b39', '#4f9d69', '#c4453c', '#8064a2', '#b08d1a', '#2f9aa0', '#d36fa8', '#6b7a8f', '#7a5230', '#9bbb59', '#444'];

  /** One panel per meter family (8.2): one /reports/usage call each. */
  var FAMILIES = [
    { id: 'usage-instance', title: 'Instance hours by flavor', meter: 'instance.time', hours: true, unit: 'hours' },
    { id: 'usage-vcpu', title: 'vCPU hours by flavor', meter: 'instance.vcpu', hours: true, unit: 'vCPU·h' },
    { id: 'usage-volume', title: 'Volume GB-hours by type', meter: 'volume.size', hours: true, unit: 'GB·h' },
    { id: 'usage-amie', title: 'AMIE charges by resource and record type', meter: 'amie.charge', hours: false, unit: 'charge' },
  ];

  var $ = function (id) { return document.getElementById(id); };

  // ---- exact decimals ------------------------------------------------------
  // A plain decimal string (reports.md 1.4) as a BigInt of units and a scale.
  var decimal = {
    parse: function (text) {
      var m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(text));
      if (!m) throw new Error('not a plain decimal: ' + text);
      var frac = m[3] || '';
      var units = BigInt(m[2] + frac);
      return { units: m[1] ? -units : units, scale: frac.length };
    },
    align: function (a, b) {
      var scale = Math.max(a.scale, b.scale);
      return [a.units * 10n ** BigInt(scale - a.scale), b.units * 10n ** BigInt(scale - b.scale), scale];
    },
    add: function (a, b) { var x = decimal.align(decimal.parse(a), decimal.parse(b)); return decimal.format(x[0] + x[1], x[2]); },
    sub: function (a, b) { var x = decimal.align(decimal.parse(a), decimal.parse(b)); return decimal.format(x[0] - x[1], x[2]); },
    cmp: function (a, b) { var x = decimal.align(decimal.parse(a), decimal.parse(b)); return x[0] < x[1] ? -1 : x[0] > x[1] ? 1 : 0; },
    format: function (units, scale) {
      var negative = units < 0n;
      var digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
      var text = scale ? digits.slice(0, digits.length - scale) + '.' + digits.slice(digits.length - scale) : digits;
      return (negative ? '-' : '') + text;
    },
    /** `text` × (100 − percent) ÷ 100, exactly: what remains of `text` once `percent` % of it is consumed. */
    remainingAt: function (text, percent) {
      var d = decimal.parse(text);
      return decimal.format(d.units * BigInt(100 - percent), d.scale + 2);
    },
    sum: function (values) { return values.reduce(function (acc, v) { return decimal.add(acc, v); }, '0'); },
    /** For display: rounded half-even to `places`, thousands grouped; the exact value stays in the cell's data-value. */
    display: function (text, places) {
      var d = decimal.parse(text);
      var units = d.units;
      if (d.scale > places) {
        var div = 10n ** BigInt(d.scale - places);
        var q = units / div;
        var r = units % div;
        var twice = (r < 0n ? -r : r) * 2n;
        if (twice > div || (twice === div && (q % 2n !== 0n))) q += units < 0n ? -1n : 1n;
        units = q;
      } else {
        units = units * 10n ** BigInt(places - d.scale);
      }
      var s = decimal.format(units, places);
      var neg = s[0] === '-';
      if (neg) s = s.slice(1);
      var parts = s.split('.');
      parts[0] = parts[0].replace(/\B(?=(\d{3})+(?!\d))/g, ',');
      return (neg ? '-' : '') + parts.join('.');
    },
  };

  // ---- state ---------------------------------------------------------------
  var state = {
    token: null,
    role: null,
    zone: 'UTC',
    projects: [],
    filters: { project: '', month: '', granularity: 'day', currency: '' },
    plots: {},
    timers: [],
    generation: 0,
  };

  function readHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ''));
    return {
      project: params.get('project') || '',
      month: /^\d{4}-\d{2}$/.test(params.get('month') || '') ? params.get('month') : '',
      granularity: params.get('granularity') === 'month' ? 'month' : 'day',
      currency: (params.get('currency') || '').toUpperCase(),
    };
  }

  function writeHash() {
    var params = new URLSearchParams();
    var f = state.filters;
    if (f.project) params.set('project', f.project);
    params.set('month', f.month);
    params.set('granularity', f.granularity);
    if (f.currency) params.set('currency', f.currency);
    var hash = '#' + params.toString();
    if (location.hash !== hash) history.replaceState(null, '', hash);
  }

  /** The current month in the accounting zone, `YYYY-MM`. */
  function currentMonth(zone) {
    var parts = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit' }).formatToParts(new Date());
    var get = function (type) { return parts.find(function (p) { return p.type === type; }).value; };
    return get('year') + '-' + get('month');
  }

  function shiftMonth(month, delta) {
    var y = Number(month.slice(0, 4));
    var m = Number(month.slice(5, 7)) - 1 + delta;
    y += Math.floor(m / 12);
    m = ((m % 12) + 12) % 12;
    return String(y).padStart(4, '0') + '-' + String(m + 1).padStart(2, '0');
  }

  /** The window of the filters: the month (daily buckets), or the 12 months ending with it (monthly buckets); bare dates are local days of `tz` (1.5). */
  function windowParams() {
    var f = state.filters;
    if (f.granularity === 'month') return { start: shiftMonth(f.month, -11) + '-01', end: shiftMonth(f.month, 1) + '-01', tz: state.zone };
    return { period: f.month, tz: state.zone };
  }

  function reportUrl(path, params) {
    var search = new URLSearchParams();
    Object.keys(params).forEach(function (name) {
      var value = params[name];
      if (value !== undefined && value !== null) search.set(name, value);
    });
    var text = search.toString();
    return path + (text ? '?' + text : '');
  }

  /** The same query as CSV (1.7): an export has no pages, so `limit` and `cursor` (400 with CSV) are left out. */
  function csvUrl(url) {
    var cut = url.indexOf('?');
    var search = new URLSearchParams(cut >= 0 ? url.slice(cut + 1) : '');
    search.delete('limit');
    search.delete('cursor');
    search.set('format', 'csv');
    return (cut >= 0 ? url.slice(0, cut) : url) + '?' + search.toString();
  }

  // ---- HTTP ----------------------------------------------------------------
  function ApiError(status, message, url) {
    this.status = status;
    this.message = message;
    this.url = url;
  }

  /** GET with the token in X-Auth-Token, never in the URL. */
  function getJson(url) {
    return fetch(url, { headers: { 'X-Auth-Token': state.token, Accept: 'application/json' }, cache: 'no-store', credentials: 'omit' }).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        if (!res.ok) throw new ApiError(res.status, (body && body.error) || res.statusText || 'HTTP ' + res.status, url);
        return body;
      });
    });
  }

  /** Every page of a list answer (1.6): rows concatenated; the first page's URL is the "data" link. */
  function getAllPages(url) {
    return getJson(url).then(function (first) {
      var rows = first.rows.slice();
      var follow = function (answer) {
        if (!answer.next_cursor) return Promise.resolve(Object.assign({}, first, { rows: rows }));
        return getJson(url + '&cursor=' + encodeURIComponent(answer.next_cursor)).then(function (next) {
          rows.push.apply(rows, next.rows);
          first.complete = first.complete && next.complete;
          first.pending_cells = Math.max(first.pending_cells, next.pending_cells);
          return follow(next);
        });
      };
      return follow(first);
    });
  }

  function explain(error) {
    if (!(error instanceof ApiError)) return String(error && error.message ? error.message : error);
    if (error.status === 401) return 'The token was refused (401: ' + error.message + '). Enter a valid token.';
    if (error.status === 403) return 'Not allowed (403: ' + error.message + '): this token may not see ' + (state.filters.project ? 'project ' + state.filters.project : 'these figures') + '.';
    if (error.status === 404) return 'Not available on this server (404: ' + error.message + ').';
    return 'The report failed (' + error.status + ': ' + error.message + ').';
  }

  // ---- DOM helpers ----------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === 'text') node.textContent = attrs[name];
      else if (name === 'className') node.className = attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }

  function showMessage(text) {
    var message = $('message');
    message.textContent = text || '';
    message.hidden = !text;
  }

  /** A panel: title, data/CSV links, status line, warnings, chart, table view. */
  function panel(id, title) {
    var existing = $('panel-' + id);
    if (existing) return existing;
    var section = el('section', { id: 'panel-' + id, className: 'panel', 'data-panel': id, 'data-state': 'loading' }, [
      el('div', { className: 'links' }),
      el('h2', { text: title }),
      el('p', { className: 'status', 'aria-live': 'polite' }),
      el('ul', { className: 'warnings' }),
      el('div', { className: 'chart' }),
      el('details', { className: 'table-view' }, [el('summary', { text: 'Table view' }), el('div', { className: 'table-holder' })]),
    ]);
    $('panels').appendChild(section);
    return section;
  }

  function setLinks(section, urls) {
    var links = section.querySelector('.links');
    links.textContent = '';
    urls.forEach(function (entry, i) {
      var suffix = urls.length > 1 ? ' ' + (entry.label || i + 1) : '';
      links.appendChild(el('a', { className: 'data-link', href: entry.url, title: 'the report this panel shows (send X-Auth-Token)', text: 'data' + suffix }));
      if (entry.csv !== false) links.appendChild(el('a', { className: 'csv-link', href: csvUrl(entry.url), title: 'the same report as CSV (send X-Auth-Token)', text: 'CSV' + suffix }));
    });
  }

  function setStatus(section, text, kind) {
    var status = section.querySelector('.status');
    status.textContent = text || '';
    status.className = 'status' + (kind ? ' ' + kind : '');
  }

  function setWarnings(section, warnings) {
    var list = section.querySelector('.warnings');
    list.textContent = '';
    warnings.forEach(function (w) { list.appendChild(el('li', { 'data-code': w.code, text: w.text })); });
  }

  /** "updating, n cells pending" while any answer says complete: false (8.2). */
  function completeness(section, answers) {
    var pending = answers.filter(function (a) { return a && a.complete === false; });
    if (pending.length) {
      var n = Math.max.apply(null, pending.map(function (a) { return a.pending_cells; }));
      setStatus(section, 'updating, ' + n + ' cells pending', 'updating');
    } else {
      setStatus(section, 'complete as of ' + formatInstant(answers[0] && answers[0].as_of), '');
    }
  }

  function cell(text, attrs) {
    return el('td', Object.assign({ text: text }, attrs || {}));
  }

  function numberCell(value, places) {
    if (value === null || value === undefined) return cell('—', { className: 'num' });
    return cell(decimal.display(value, places), { className: 'num', 'data-value': value, title: value });
  }

  function table(section, head, rows, foot) {
    var holder = section.querySelector('.table-holder');
    holder.textContent = '';
    var t = el('table', {}, [
      el('thead', {}, [el('tr', {}, head.map(function (h) { return el('th', { text: h.label, className: h.num ? 'num' : '' }); }))]),
      el('tbody', {}, rows),
    ]);
    if (foot) t.appendChild(el('tfoot', {}, foot));
    holder.appendChild(t);
  }

  function formatInstant(iso) {
    if (!iso) return '—';
    return new Intl.DateTimeFormat('en-GB', { timeZone: state.zone, dateStyle: 'medium', timeStyle: 'medium' }).format(new Date(iso)) + ' (' + state.zone + ')';
  }

  function formatAge(seconds) {
    if (seconds === null || seconds === undefined) return '—';
    var s = Math.round(seconds);
    if (s < 120) return s + ' s';
    if (s < 7200) return Math.round(s / 60) + ' min';
    if (s < 172800) return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
    return Math.round(s / 86400) + ' d';
  }

  // ---- charts (uPlot) --------------------------------------------------------
  function chartWidth(section) {
    return Math.max(320, section.querySelector('.chart').clientWidth || section.clientWidth - 24 || 560);
  }

  function destroyPlot(id) {
    if (state.plots[id]) { state.plots[id].destroy(); delete state.plots[id]; }
  }

  /**
   * Stacked bars on an ordinal x axis: one bar per bucket, labelled with the
   * bucket's local label from the answer (`period`), so a 23- or 25-hour day
   * is one bar like any other. `series` holds exact decimal strings (or null:
   * no value, never zero); the stack is summed exactly.
   */
  function stackedBars(section, id, labels, series, unit) {
    destroyPlot(id);
    var holder = section.querySelector('.chart');
    holder.textContent = '';
    if (!labels.length || !series.length) {
      holder.appendChild(el('p', { className: 'empty', text: 'No usage in this window.' }));
      return;
    }
    var running = labels.map(function () { return '0'; });
    var stacked = series.map(function (s) {
      return s.values.map(function (v, i) {
        if (v === null) return null;
        running[i] = decimal.add(running[i], v);
        return Number(running[i]);
      });
    });
    var x = labels.map(function (_l, i) { return i; });
    // Drawn tallest first so each lower stack level paints over it.
    var order = series.map(function (_s, i) { return i; }).reverse();
    var opts = {
      width: chartWidth(section),
      height: 260,
      legend: { show: true, live: false },
      cursor: { show: false },
      scales: { x: { time: false, range: function () { return [-0.5, labels.length - 0.5]; } }, y: { range: function (_u, _min, max) { return [0, max > 0 ? max * 1.05 : 1]; } } },
      axes: [
        { incrs: [1, 2, 3, 5, 7, 10, 14, 21, 30], values: function (_u, splits) { return splits.map(function (i) { return labels[i] === undefined ? '' : labels[i]; }); } },
        { label: unit, size: 70 },
      ],
      series: [{}].concat(order.map(function (i) {
        var color = PALETTE[i % PALETTE.length];
        return { label: series[i].label, stroke: color, fill: color, width: 0, points: { show: false }, paths: uPlot.paths.bars({ size: [0.8, 80], align: 0 }) };
      })),
    };
    var data = [x].concat(order.map(function (i) { return stacked[i]; }));
    state.plots[id] = new uPlot(opts, data, holder);
  }

  /** Lines over time (operations panels): x in seconds, labelled in the accounting zone. */
  function timeLines(section, id, times, series, unit) {
    destroyPlot(id);
    var holder = section.querySelector('.chart');
    holder.textContent = '';
    if (!times.length) {
      holder.appendChild(el('p', { className: 'empty', text: 'No samples yet.' }));
      return;
    }
    var opts = {
      width: chartWidth(section),
      height: 220,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), state.zone); },
      legend: { show: true, live: false },
      cursor: { show: false },
      scales: { y: { range: function (_u, _min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
      axes: [{}, { label: unit, size: 60 }],
      series: [{}].concat(series.map(function (s, i) { return { label: s.label, stroke: PALETTE[i % PALETTE.length], width: 2, points: { show: times.length < 3 } }; })),
    };
    state.plots[id] = new uPlot(opts, [times].concat(series.map(function (s) { return s.values; })), holder);
  }

  function bars(section, id, labels, values, unit) {
    stackedBars(section, id, labels, [{ label: unit, values: values }], unit);
  }

  // ---- header ----------------------------------------------------------------
  function loadIdentity() {
    // /reports/projects names the role and the zone (3.3); a user gets all its projects on one page, others are paged.
    var projects = [];
    var url = '/reports/projects?limit=10000';
    var follow = function (pageUrl) {
      return getJson(pageUrl).then(function (answer) {
        projects.push.apply(projects, answer.projects);
        if (answer.next_cursor) return follow(url + '&cursor=' + encodeURIComponent(answer.next_cursor));
        return answer;
      });
    };
    return follow(url).then(function (answer) {
      state.role = answer.role;
      state.zone = answer.time_zone;
      state.projects = projects;
      $('role').textContent = answer.role;
      $('zone').textContent = answer.time_zone;
      var names = projects.map(function (p) { return p.name ? p.project_id + ' (' + p.name + ')' : p.project_id; });
      $('project-list').textContent = projects.length + (projects.length ? ': ' + names.slice(0, 12).join(', ') + (projects.length > 12 ? ', …' : '') : '');
      $('project-list').setAttribute('data-count', String(projects.length));
      $('identity').hidden = false;
      var select = $('f-project');
      select.textContent = '';
      select.appendChild(el('option', { value: '', text: 'all visible projects' }));
      projects.forEach(function (p) { select.appendChild(el('option', { value: p.project_id, text: p.name ? p.project_id + ' — ' + p.name : p.project_id })); });
    });
  }

  function syncFilterControls() {
    var f = state.filters;
    var select = $('f-project');
    if (f.project && !Array.prototype.some.call(select.options, function (o) { return o.value === f.project; })) {
      // A project typed into the URL that the token does not list: kept, so the reports' 403 explains it.
      select.appendChild(el('option', { value: f.project, text: f.project + ' (not listed)' }));
    }
    select.value = f.project;
    $('f-month').value = f.month;
    $('f-granularity').value = f.granularity;
    $('f-currency').value = f.currency;
  }

  function isOpsRole() {
    return OPS_ROLES.indexOf(state.role) >= 0;
  }

  // ---- usage panels (one call per meter family) ------------------------------
  function usageFamily(family, generation) {
    var section = panel(family.id, family.title);
    var params = Object.assign(windowParams(), { granularity: state.filters.granularity, group_by: 'key,subkey', meter: family.meter, project_id: state.filters.project || null, limit: '10000' });
    var url = reportUrl('/reports/usage', params);
    setLinks(section, [{ url: url }]);
    return getAllPages(url).then(function (answer) {
      if (generation !== state.generation) return;
      var value = function (row) { return family.hours ? row.quantity_hours : row.quantity; };
      var labelOf = function (row) { return family.meter === 'amie.charge' ? row.key + ' / ' + row.subkey : row.key || '(none)'; };
      var buckets = [];
      var bucketIndex = {};
      answer.rows.forEach(function (row) {
        if (!(row.period_start in bucketIndex)) { bucketIndex[row.period_start] = buckets.length; buckets.push(row); }
      });
      var seriesByLabel = {};
      var seriesList = [];
      answer.rows.forEach(function (row) {
        var label = labelOf(row);
        if (!seriesByLabel[label]) { seriesByLabel[label] = { label: label, values: buckets.map(function () { return null; }) }; seriesList.push(seriesByLabel[label]); }
        var s = seriesByLabel[label];
        var i = bucketIndex[row.period_start];
        // Adjustment lines of the same bucket and key add to it, exactly.
        s.values[i] = s.values[i] === null ? value(row) : decimal.add(s.values[i], value(row));
      });
      seriesList.sort(function (a, b) { return a.label < b.label ? -1 : a.label > b.label ? 1 : 0; });
      stackedBars(section, family.id, buckets.map(bucketLabel), seriesList, family.unit);
      table(section,
        [{ label: 'bucket' }, { label: 'key' }, { label: 'subkey' }, { label: 'line' }, { label: family.unit, num: true }],
        answer.rows.map(function (row) {
          return el('tr', { 'data-period-start': row.period_start }, [cell(row.period || row.period_start), cell(row.key), cell(row.subkey), cell(row.line_type), numberCell(value(row), 2)]);
        }),
        answer.totals.by_meter.filter(function (t) { return t.meter === family.meter; }).map(function (t) {
          return el('tr', { className: 'total' }, [cell('total'), cell(''), cell(''), cell(''), numberCell(family.hours ? t.quantity_hours : t.quantity, 2)]);
        }));
      setWarnings(section, (answer.warnings || []).filter(function (w) { return w.code === 'unsized'; }).map(function (w) { return { code: w.code, text: w.message }; }));
      completeness(section, [answer]);
      section.setAttribute('data-state', 'ready');
    });
  }

  function bucketLabel(row) {
    if (row.period) return state.filters.granularity === 'day' ? row.period.slice(5) : row.period;
    return row.period_start.slice(0, 10);
  }

  // ---- cost panel: the 10 costliest projects and "other" ---------------------
  function costPanel(generation) {
    var section = panel('cost', COST_TITLE);
    var currency = state.filters.currency || null;
    var project = state.filters.project || null;
    var base = Object.assign(windowParams(), { currency: currency, project_id: project, limit: '10000' });
    var totalsUrl = reportUrl('/reports/usage', Object.assign({}, base, { granularity: 'total', group_by: 'project_id' }));
    var links = [{ url: totalsUrl, label: 'totals' }];
    setLinks(section, links);
    return getAllPages(totalsUrl).then(function (totals) {
      if (generation !== state.generation) return;
      if (totals.currency === null) {
        destroyPlot('cost');
        section.querySelector('.chart').textContent = '';
        section.querySelector('.table-holder').textContent = '';
        setWarnings(section, []);
        setStatus(section, 'No currency: choose one in the filters (or set REPORT_CURRENCY) to see cost.', '');
        section.setAttribute('data-state', 'ready');
        return;
      }
      // Cost per project: the exact sum of its rows' costs; a project with any unpriced row is marked, never shown as free.
      var perProject = {};
      totals.rows.forEach(function (row) {
        var p = perProject[row.project_id] || (perProject[row.project_id] = { project_id: row.project_id, cost: '0', unpriced: false });
        if (row.priced === false || row.cost === null) p.unpriced = true;
        else p.cost = decimal.add(p.cost, row.cost);
      });
      var ranked = Object.keys(perProject).map(function (k) { return perProject[k]; }).sort(function (a, b) {
        return decimal.cmp(b.cost, a.cost) || (a.project_id < b.project_id ? -1 : 1);
      });
      var top = ranked.slice(0, TOP_PROJECTS).map(function (p) { return p.project_id; });
      var warnings = (totals.warnings || []).filter(function (w) { return w.code === 'unpriced'; }).map(function (w) { return { code: 'unpriced', text: 'Unpriced usage (no cost shown, not free): ' + w.message }; });
      if (!top.length) {
        destroyPlot('cost');
        section.querySelector('.chart').textContent = '';
        section.querySelector('.chart').appendChild(el('p', { className: 'empty', text: 'No usage in this window.' }));
        section.querySelector('.table-holder').textContent = '';
        setWarnings(section, warnings);
        completeness(section, [totals]);
        section.setAttribute('data-state', 'ready');
        return;
      }
      var seriesUrl = reportUrl('/reports/usage', Object.assign({}, base, { granularity: state.filters.granularity, group_by: 'project_id', project_id: top.join(',') }));
      links.push({ url: seriesUrl, label: 'series' });
      var otherUrl = ranked.length > TOP_PROJECTS ? reportUrl('/reports/usage', Object.assign({}, base, { granularity: state.filters.granularity, group_by: '' })) : null;
      if (otherUrl) links.push({ url: otherUrl, label: 'all projects' });
      setLinks(section, links);
      return Promise.all([getAllPages(seriesUrl), otherUrl ? getAllPages(otherUrl) : Promise.resolve(null)]).then(function (answers) {
        if (generation !== state.generation) return;
        var series = answers[0];
        var all = answers[1];
        var buckets = [];
        var index = {};
        var note = function (row) { if (!(row.period_start in index)) { index[row.period_start] = buckets.length; buckets.push(row); } };
        series.rows.forEach(note);
        if (all) all.rows.forEach(note);
        buckets.sort(function (a, b) { return a.period_start < b.period_start ? -1 : 1; });
        buckets.forEach(function (b, i) { index[b.period_start] = i; });
        // Per (project, bucket): exact cost, or null once any row of it is unpriced.
        var cells = {};
        var addCell = function (key, i, row) {
          var c = cells[key] || (cells[key] = buckets.map(function () { return { cost: '0', unpriced: false, seen: false }; }));
          c[i].seen = true;
          if (row.priced === false || row.cost === null) c[i].unpriced = true;
          else c[i].cost = decimal.add(c[i].cost, row.cost);
        };
        series.rows.forEach(function (row) { addCell(row.project_id, index[row.period_start], row); });
        if (all) all.rows.forEach(function (row) { addCell('\u0000all', index[row.period_start], row); });
        var names = top.slice();
        if (all) {
          // other = all projects − the top ten, exactly; unknown once any part is unpriced.
          cells['other'] = buckets.map(function (_b, i) {
            var total = cells['\u0000all'] ? cells['\u0000all'][i] : { cost: '0', unpriced: false, seen: false };
            var out = { cost: total.cost, unpriced: total.unpriced, seen: total.seen };
            top.forEach(function (p) { var c = cells[p] && cells[p][i]; if (c && c.seen) { out.unpriced = out.unpriced || c.unpriced; out.cost = decimal.sub(out.cost, c.cost); } });
            return out;
          });
          names.push('other');
        }
        var chartSeries = names.filter(function (n) { return cells[n]; }).map(function (n) {
          return { label: n, values: cells[n].map(function (c) { return c.seen && !c.unpriced ? c.cost : null; }) };
        });
        var anyPriced = chartSeries.some(function (s) { return s.values.some(function (v) { return v !== null; }); });
        if (anyPriced) stackedBars(section, 'cost', buckets.map(bucketLabel), chartSeries, totals.currency);
        else {
          destroyPlot('cost');
          section.querySelector('.chart').textContent = '';
          section.querySelector('.chart').appendChild(el('p', { className: 'empty', text: 'No priced usage in ' + totals.currency + ': cost cannot be shown (see the warnings).' }));
        }
        var rows = [];
        names.forEach(function (n) {
          if (!cells[n]) return;
          cells[n].forEach(function (c, i) {
            if (!c.seen) return;
            rows.push(el('tr', { 'data-project': n }, [cell(buckets[i].period || buckets[i].period_start), cell(n),
              c.unpriced ? cell('unpriced', { className: 'num unpriced', title: 'no price item covers some of this usage: not free, not known' }) : numberCell(c.cost, 2)]));
          });
        });
        table(section, [{ label: 'bucket' }, { label: 'project' }, { label: 'cost (' + totals.currency + ')', num: true }], rows, [
          el('tr', { className: 'total' }, [cell('total'), cell(totals.totals.cost_complete ? 'all projects' : 'all projects, priced part only'), numberCell(totals.totals.cost, 2)]),
        ]);
        setWarnings(section, warnings);
        completeness(section, [totals, series].concat(all ? [all] : []));
        section.setAttribute('data-state', 'ready');
      });
    });
  }

  // ---- budget burn-down (one project chosen) ---------------------------------
  /** The UTC offset of the accounting zone at instant `ms`, in ms. */
  function zoneOffsetMs(ms) {
    var parts = new Intl.DateTimeFormat('en-US', { timeZone: state.zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(ms));
    var get = function (type) { return Number(parts.find(function (p) { return p.type === type; }).value); };
    return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour') % 24, get('minute'), get('second')) - Math.floor(ms / 1000) * 1000;
  }

  /** The instant (seconds) a local day `YYYY-MM-DD` of the accounting zone ends: the start of the next one. Placement only. */
  function localDayEnd(day) {
    var guess = Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)) - 1, Number(day.slice(8, 10)) + 1);
    var t = guess - zoneOffsetMs(guess);
    return (guess - zoneOffsetMs(t)) / 1000;
  }

  function removeBudgetPanel() {
    destroyPlot('budget');
    var existing = $('panel-budget');
    if (existing) existing.parentNode.removeChild(existing);
  }

  function budgetSection() {
    var section = panel('budget', 'Budget burn-down');
    if (!section.querySelector('.budget-state')) {
      section.insertBefore(el('p', { className: 'budget-state' }), section.querySelector('.warnings'));
      section.insertBefore(el('ul', { className: 'markers' }), section.querySelector('.chart'));
    }
    return section;
  }

  function clearBudget(section) {
    destroyPlot('budget');
    section.querySelector('.chart').textContent = '';
    section.querySelector('.table-holder').textContent = '';
    section.querySelector('.markers').textContent = '';
    var badge = section.querySelector('.budget-state');
    badge.textContent = '';
    badge.className = 'budget-state';
    badge.removeAttribute('data-budget-state');
  }

  /**
   * Remaining SU over the budget period (granted − consumed to date, per local
   * day of the series), the straight line from granted to zero, a marker per
   * threshold (crossed or not), the open holds as a band from now to the
   * period end, the forecast line and the state. Every figure shown is a
   * string of the answer, or an exact difference of two; floats only place
   * points on the canvas.
   */
  function budgetPanel(generation) {
    var section = budgetSection();
    var project = state.filters.project;
    var url = reportUrl('/reports/budgets/' + encodeURIComponent(project), { series: 'day' });
    // The single-budget route answers JSON only (no format=csv): a "data" link, no "CSV".
    setLinks(section, [{ url: url, csv: false }]);
    return getJson(url).then(function (answer) {
      if (generation !== state.generation) return;
      drawBudget(section, answer);
    }, function (error) {
      if (generation !== state.generation) return;
      clearBudget(section);
      if (!(error instanceof ApiError) || error.status !== 404) throw error;
      // 404: the project has no current budget (none, or the latest one has ended) — a fact, not a failure.
      section.querySelector('.chart').appendChild(el('p', { className: 'empty no-budget', text: 'No current budget for project ' + project + '.' }));
      setWarnings(section, []);
      setStatus(section, '', '');
      section.setAttribute('data-state', 'ready');
    });
  }

  function drawBudget(section, b) {
    clearBudget(section);
    var badge = section.querySelector('.budget-state');
    badge.textContent = 'state: ' + b.state;
    badge.className = 'budget-state ' + b.state;
    badge.setAttribute('data-budget-state', b.state);
    var start = Date.parse(b.period.start) / 1000;
    var end = Date.parse(b.period.end) / 1000;
    var asOf = Date.parse(b.as_of) / 1000;
    var remainingNow = decimal.sub(b.granted, b.consumed);
    var points = {};
    var put = function (key, x, value) {
      (points[x] || (points[x] = {}))[key] = value === null ? null : Number(value);
    };
    // Remaining: granted at the start, then granted − consumed_to_date at the end of each day of the series.
    put('remaining', start, b.granted);
    var series = b.series || [];
    var remaining = series.map(function (d) { return decimal.sub(b.granted, d.consumed_to_date); });
    series.forEach(function (d, i) { put('remaining', Math.min(localDayEnd(d.day), Math.max(asOf, start)), remaining[i]); });
    // The ideal: a straight line from granted at the start to zero at the end.
    put('ideal', start, b.granted);
    put('ideal', end, '0');
    // Thresholds: the remaining SU at which each is reached, exactly.
    var levels = b.thresholds.map(function (t) { return decimal.remainingAt(b.granted, t.percent); });
    b.thresholds.forEach(function (t, i) { put('t' + i, start, levels[i]); put('t' + i, end, levels[i]); });
    // Open holds: a band between remaining and available, from now to the period end.
    var held = decimal.cmp(b.held, '0') > 0;
    var bandFrom = Math.min(Math.max(asOf, start), end);
    if (held) {
      put('holdTop', bandFrom, remainingNow); put('holdTop', end, remainingNow);
      put('holdBottom', bandFrom, b.available); put('holdBottom', end, b.available);
    }
    // Forecast: from available now, at burn_rate_per_day, to exhaustion (forecast_exhausted_at) or to the period end.
    // Nothing available (exhausted, overdrawn): nothing to forecast, the route's forecast is null and no line is drawn.
    var forecast = decimal.cmp(b.available, '0') > 0;
    if (forecast) {
      put('forecast', bandFrom, b.available);
      if (b.forecast_exhausted_at) put('forecast', Date.parse(b.forecast_exhausted_at) / 1000, '0');
      // Exhaustion after the period end (or no burn): the line runs to the period end, still above zero.
      else points[end] = Object.assign(points[end] || {}, { forecast: Math.max(0, Number(b.available) - Number(b.burn_rate_per_day) * (end - bandFrom) / 86400) });
    }
    var xs = Object.keys(points).map(Number).sort(function (a, c) { return a - c; });
    var keys = ['remaining', 'ideal'].concat(b.thresholds.map(function (_t, i) { return 't' + i; })).concat(held ? ['holdTop', 'holdBottom'] : []).concat(forecast ? ['forecast'] : []);
    var data = [xs].concat(keys.map(function (k) { return xs.map(function (x) { return points[x][k] === undefined ? null : points[x][k]; }); }));
    var specs = {
      remaining: { label: 'remaining SU', stroke: PALETTE[0], width: 2 },
      ideal: { label: 'granted → 0', stroke: '#6b7a8f', width: 1, dash: [6, 4] },
      holdTop: { label: 'open holds ' + b.held, stroke: 'rgba(128,100,162,0.6)', width: 1 },
      holdBottom: { label: 'available', stroke: 'rgba(128,100,162,0.6)', width: 1 },
      forecast: { label: 'forecast', stroke: PALETTE[1], width: 3, dash: [8, 4] },
    };
    b.thresholds.forEach(function (t, i) {
      specs['t' + i] = { label: t.percent + ' %' + (t.crossed_at ? ' crossed' : ''), stroke: t.crossed_at ? '#c4453c' : '#b08d1a', width: 1, dash: t.crossed_at ? [] : [2, 3] };
    });
    var opts = {
      width: chartWidth(section),
      height: 260,
      tzDate: function (ts) { return uPlot.tzDate(new Date(ts * 1000), state.zone); },
      legend: { show: true, live: false },
      cursor: { show: false },
      scales: { y: { range: function (_u, min, max) { var lo = Math.min(0, min); var hi = Math.max(max, 1); return [lo - (hi - lo) * 0.03, hi * 1.05]; } } },
      axes: [{}, { label: b.unit, size: 70 }],
      series: [{}].concat(keys.map(function (k) { return Object.assign({ spanGaps: true, points: { show: false } }, specs[k]); })),
    };
    if (held) opts.bands = [{ series: [keys.indexOf('holdTop') + 1, keys.indexOf('holdBottom') + 1], fill: 'rgba(128,100,162,0.25)' }];
    state.plots.budget = new uPlot(opts, data, section.querySelector('.chart'));
    // Threshold markers, named in words (the chart's colours say the same).
    var markers = section.querySelector('.markers');
    b.thresholds.forEach(function (t, i) {
      markers.appendChild(el('li', { 'data-percent': String(t.percent), 'data-crossed': t.crossed_at ? 'true' : 'false', className: t.crossed_at ? 'crossed' : '',
        text: t.percent + ' % (' + decimal.display(levels[i], 2) + ' ' + b.unit + ' left): ' + (t.crossed_at ? 'crossed ' + formatInstant(t.crossed_at) : 'not crossed') }));
    });
    // The table view: the answer's figures, the thresholds, the forecast, the series.
    var holder = section.querySelector('.table-holder');
    var tableOfRows = function (className, head, rows) {
      return el('table', { className: className }, [
        el('thead', {}, [el('tr', {}, head.map(function (h) { return el('th', { text: h.label, className: h.num ? 'num' : '' }); }))]),
        el('tbody', {}, rows),
      ]);
    };
    var figure = function (name, value) { return el('tr', { 'data-field': name }, [cell(name), numberCell(value, 2)]); };
    holder.appendChild(tableOfRows('budget-figures', [{ label: 'figure' }, { label: b.unit, num: true }], [
      figure('granted', b.granted), figure('consumed', b.consumed), figure('held', b.held), figure('available', b.available),
      figure('accrued_today', b.accrued_today), figure('outside_period', b.outside_period), figure('ratio', b.ratio), figure('burn_rate_per_day', b.burn_rate_per_day),
      el('tr', { 'data-field': 'forecast_exhausted_at' }, [cell('forecast_exhausted_at'), cell(b.forecast_exhausted_at ? formatInstant(b.forecast_exhausted_at) : forecast ? 'not before the period end' : 'none: nothing available', { 'data-value': b.forecast_exhausted_at || '' })]),
      el('tr', { 'data-field': 'state' }, [cell('state'), cell(b.state, { 'data-value': b.state })]),
      el('tr', { 'data-field': 'period' }, [cell('period'), cell(formatInstant(b.period.start) + ' – ' + formatInstant(b.period.end), { 'data-value': b.period.start + '/' + b.period.end })]),
    ]));
    holder.appendChild(tableOfRows('budget-thresholds', [{ label: 'threshold %', num: true }, { label: 'remaining at it', num: true }, { label: 'crossed at' }, { label: 'event' }],
      b.thresholds.map(function (t, i) {
        return el('tr', { 'data-percent': String(t.percent) }, [cell(String(t.percent), { className: 'num', 'data-value': String(t.percent) }), numberCell(levels[i], 2),
          cell(t.crossed_at ? formatInstant(t.crossed_at) : 'not crossed', { 'data-value': t.crossed_at || '' }), cell(t.event_id || '—', { 'data-value': t.event_id || '' })]);
      })));
    holder.appendChild(tableOfRows('budget-series', [{ label: 'day' }, { label: 'consumed', num: true }, { label: 'consumed to date', num: true }, { label: 'remaining', num: true }],
      series.map(function (d, i) { return el('tr', { 'data-day': d.day }, [cell(d.day), numberCell(d.consumed, 2), numberCell(d.consumed_to_date, 2), numberCell(remaining[i], 2)]); })));
    setWarnings(section, []);
    setStatus(section, 'as of ' + formatInstant(b.as_of) + (b.lag_seconds ? ', updating (lag ' + formatAge(b.lag_seconds) + ')' : ''), b.lag_seconds ? 'updating' : '');
    section.setAttribute('data-state', 'ready');
  }

  // ---- operations panels (admin, reader, service only) -----------------------
  function freshnessPanel(generation) {
    var section = panel('ops-freshness', 'Source freshness');
    var url = '/reports/ops/freshness';
    setLinks(section, [{ url: url, csv: false }]);
    return getJson(url).then(function (answer) {
      if (generation !== state.generation) return;
      var silent = answer.sources.filter(function (s) { return s.silent; });
      var banner = $('silent-banner');
      banner.hidden = silent.length === 0;
      banner.textContent = silent.length
        ? 'Metering may be broken — silent beyond its threshold: ' + silent.map(function (s) { return s.source + ' at ' + s.site + ' (' + s.collector + '), last event ' + formatAge(s.age_seconds) + ' ago, threshold ' + formatAge(s.threshold_seconds); }).join('; ') + '. Missing figures from it are not "no usage".'
        : '';
      var badge = $('freshness-badge');
      badge.textContent = silent.length ? silent.length + ' source' + (silent.length > 1 ? 's' : '') + ' silent' : 'all sources fresh, rollup lag ' + formatAge(answer.rollup.lag_seconds);
      badge.className = 'badge ' + (silent.length ? 'bad' : 'ok');
      table(section, [{ label: 'source' }, { label: 'site' }, { label: 'collector' }, { label: 'last event' }, { label: 'age', num: true }, { label: 'threshold', num: true }, { label: 'silent' }],
        answer.sources.map(function (s) {
          return el('tr', { className: s.silent ? 'silent' : '' }, [cell(s.source), cell(s.site), cell(s.collector), cell(formatInstant(s.last_event_at)),
            cell(formatAge(s.age_seconds), { className: 'num', 'data-value': String(s.age_seconds) }), cell(formatAge(s.threshold_seconds), { className: 'num', 'data-value': String(s.threshold_seconds) }), cell(s.silent ? 'silent' : 'ok')]);
        }),
        [el('tr', {}, [cell('rollups'), cell('dirty keys ' + answer.rollup.dirty_keys), cell('lag ' + formatAge(answer.rollup.lag_seconds)), cell('booked to ' + (answer.rollup.booked_horizon || '—')), cell(''), cell(''), cell('day roll ' + formatInstant(answer.rollup.day_roll_at))])]);
      // The table is the view: no chart for a table of ages, so it is open.
      section.querySelector('.chart').textContent = '';
      section.querySelector('details').open = true;
      setStatus(section, 'as of ' + formatInstant(new Date().toISOString()), '');
      section.setAttribute('data-state', 'ready');
    });
  }

  function queuesPanel(generation) {
    var section = panel('ops-queues', 'Queue depth over the last 6 hours');
    var url = '/reports/ops/queues?history=6h';
    setLinks(section, [{ url: url, csv: false }]);
    return getJson(url).then(function (answer) {
      if (generation !== state.generation) return;
      var states = ['waiting', 'active', 'delayed', 'failed'];
      var times = [];
      var timeIndex = {};
      (answer.history || []).forEach(function (h) { if (!(h.at in timeIndex)) { timeIndex[h.at] = times.length; times.push(h.at); } });
      var series = [];
      answer.queues.forEach(function (q) {
        states.forEach(function (st) {
          var values = times.map(function () { return null; });
          (answer.history || []).forEach(function (h) { if (h.queue === q.queue) values[timeIndex[h.at]] = h[st]; });
          series.push({ label: q.queue + ' ' + st, values: values });
        });
      });
      timeLines(section, 'ops-queues', times.map(function (t) { return Date.parse(t) / 1000; }), series, 'jobs');
      var rows = answer.queues.map(function (q) {
        return el('tr', { 'data-kind': 'current' }, [cell('now'), cell(q.queue)].concat(states.map(function (st) { return cell(String(q[st]), { className: 'num', 'data-value': String(q[st]) }); })));
      }).concat((answer.history || []).map(function (h) {
        return el('tr', { 'data-kind': 'history' }, [cell(formatInstant(h.at)), cell(h.queue)].concat(states.map(function (st) { return cell(String(h[st]), { className: 'num', 'data-value': String(h[st]) }); })));
      }));
      table(section, [{ label: 'at' }, { label: 'queue' }].concat(states.map(function (st) { return { label: st, num: true }; })), rows);
      setStatus(section, answer.queues.map(function (q) { return q.queue + ': oldest waiting ' + formatAge(q.oldest_waiting_age_seconds); }).join('; '), '');
      section.setAttribute('data-state', 'ready');
    });
  }

  function failuresPanel(generation) {
    var section = panel('ops-failures', 'Failed AMIE records by error, per site and resource');
    var url = '/reports/amie/failures';
    setLinks(section, [{ url: url, csv: false }]);
    return getJson(url).then(function (answer) {
      if (generation !== state.generation) return;
      var labels = answer.groups.map(function (g) { return g.site + '/' + (g.resource || '—') + ': ' + g.error; });
      // Counts are JSON numbers (1.4); bars need no decimal arithmetic.
      bars(section, 'ops-failures', labels, answer.groups.map(function (g) { return String(g.count); }), 'records');
      table(section, [{ label: 'site' }, { label: 'resource' }, { label: 'error' }, { label: 'usage type' }, { label: 'count', num: true }, { label: 'oldest' }, { label: 'newest' }],
        answer.groups.map(function (g) {
          return el('tr', {}, [cell(g.site), cell(g.resource), cell(g.error), cell(g.usage_type), cell(String(g.count), { className: 'num', 'data-value': String(g.count) }), cell(formatInstant(g.oldest_failed_at)), cell(formatInstant(g.newest_failed_at))]);
        }),
        [el('tr', { className: 'total' }, [cell('total'), cell(''), cell(''), cell(''), cell(String(answer.total), { className: 'num', 'data-value': String(answer.total) }), cell(''), cell('')])]);
      setStatus(section, answer.total ? answer.total + ' outstanding failed records' : 'no outstanding failed records', '');
      section.setAttribute('data-state', 'ready');
    });
  }

  // ---- loading and refresh ---------------------------------------------------
  /** Runs one panel's loader; its failure is shown in the panel (and a 401/403 in the header). */
  function guarded(section, loader) {
    section().setAttribute('data-state', 'loading');
    return loader().catch(function (error) {
      var node = section();
      setStatus(node, explain(error), 'error');
      node.setAttribute('data-state', 'error');
      node.setAttribute('data-status', String(error.status || ''));
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) {
        showMessage(explain(error));
        if (error.status === 401) forgetToken(false);
        // A refused report shows no figures: the panel's old chart and table are removed.
        destroyPlot(node.getAttribute('data-panel'));
        node.querySelector('.chart').textContent = '';
        node.querySelector('.table-holder').textContent = '';
      }
    });
  }

  function loadData() {
    var generation = state.generation;
    showMessage('');
    var jobs = FAMILIES.map(function (family) {
      return guarded(function () { return panel(family.id, family.title); }, function () { return usageFamily(family, generation); });
    });
    jobs.push(guarded(function () { return panel('cost', COST_TITLE); }, function () { return costPanel(generation); }));
    // The budget burn-down: only for one chosen project (every role; a user's other projects answer 403).
    if (state.filters.project) jobs.push(guarded(budgetSection, function () { return budgetPanel(generation); }));
    else removeBudgetPanel();
    $('refreshed').textContent = 'refreshed ' + new Date().toLocaleTimeString('en-GB', { timeZone: state.zone }) + ' (' + state.zone + '), every 60 s';
    return Promise.all(jobs);
  }

  function loadOps() {
    // A user token never calls the operations routes (8.2): the panels are not even created.
    if (!isOpsRole()) return Promise.resolve();
    var generation = state.generation;
    return Promise.all([
      guarded(function () { return panel('ops-freshness', 'Source freshness'); }, function () { return freshnessPanel(generation); }),
      guarded(function () { return panel('ops-queues', 'Queue depth over the last 6 hours'); }, function () { return queuesPanel(generation); }),
      guarded(function () { return panel('ops-failures', 'Failed AMIE records by error, per site and resource'); }, function () { return failuresPanel(generation); }),
    ]);
  }

  /** A new generation: answers of the older one are dropped. The body's data-generation shows it (what the tests wait on). */
  function nextGeneration() {
    state.generation++;
    document.body.setAttribute('data-generation', String(state.generation));
  }

  /** Every panel again for new filters: the data panels, and the operations panels (for roles that have them), whose in-flight answers the new generation drops. */
  function reload() {
    nextGeneration();
    loadData();
    loadOps();
  }

  function clearTimers() {
    state.timers.forEach(function (t) { clearInterval(t); });
    state.timers = [];
  }

  function start() {
    clearTimers();
    nextGeneration();
    document.body.setAttribute('data-state', 'loading');
    showMessage('');
    return loadIdentity().then(function () {
      var fromHash = readHash();
      state.filters = {
        project: fromHash.project,
        month: fromHash.month || currentMonth(state.zone),
        granularity: fromHash.granularity,
        currency: fromHash.currency,
      };
      writeHash();
      syncFilterControls();
      $('filters').hidden = false;
      $('panels').hidden = false;
      $('token-forget').hidden = false;
      return Promise.all([loadData(), loadOps()]);
    }).then(function () {
      if (!state.token) return;
      state.timers.push(setInterval(loadData, DATA_REFRESH_MS));
      if (isOpsRole()) state.timers.push(setInterval(loadOps, OPS_REFRESH_MS));
      document.body.setAttribute('data-state', 'ready');
    }).catch(function (error) {
      showMessage(explain(error));
      if (error instanceof ApiError && error.status === 401) forgetToken(false);
      document.body.setAttribute('data-state', 'error');
    });
  }

  function forgetToken(clearMessage) {
    clearTimers();
    nextGeneration();
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    Object.keys(state.plots).forEach(destroyPlot);
    $('panels').textContent = '';
    $('panels').hidden = true;
    $('filters').hidden = true;
    $('identity').hidden = true;
    $('silent-banner').hidden = true;
    $('token-forget').hidden = true;
    if (clearMessage) showMessage('');
  }

  function refilter() {
    state.filters = {
      project: $('f-project').value,
      month: /^\d{4}-\d{2}$/.test($('f-month').value) ? $('f-month').value : state.filters.month,
      granularity: $('f-granularity').value,
      currency: $('f-currency').value.trim().toUpperCase(),
    };
    writeHash();
    reload();
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('token-form').addEventListener('submit', function (event) {
      event.preventDefault();
      var token = $('token').value.trim();
      $('token').value = '';
      if (!token) return;
      state.token = token;
      sessionStorage.setItem(TOKEN_KEY, token);
      start();
    });
    $('token-forget').addEventListener('click', function () { forgetToken(true); });
    $('filters').addEventListener('submit', function (event) { event.preventDefault(); });
    ['f-project', 'f-month', 'f-granularity', 'f-currency'].forEach(function (id) { $(id).addEventListener('change', refilter); });
    // Editing the URL's hash (project, month…) reloads the figures; the reports answer 403 for a project the token may not see.
    window.addEventListener('hashchange', function () {
      if (!state.token || !state.role) return;
      var f = readHash();
      state.filters = { project: f.project, month: f.month || state.filters.month, granularity: f.granularity, currency: f.currency };
      syncFilterControls();
      reload();
    });
    var stored = sessionStorage.getItem(TOKEN_KEY);
    if (stored) {
      state.token = stored;
      start();
    }
  });
})();
