// viewer.js: the script of a ticketsim page (src/present/html/mod.rs includes it inline).
//
// It reads the page's data (the #ticketsim-data element: for each view, each run's trace
// records about the ticket followed, the story's steps and the checks) and draws the lanes and
// arrows, the step controls, and at every step each database's copy of the ticket (and of its
// orders and payments), the bus's pending messages and every check's status. What those are at
// a step is fold.js's (TicketsimFold): the fold of the records up to it, found in the records'
// own fields, so a node, a database or a record kind it does not know still shows; an unknown
// kind is a note labelled with its name. Nothing of the model is recomputed.
(function () {
  'use strict';

  var data = JSON.parse(document.getElementById('ticketsim-data').textContent);
  var main = document.getElementById('main');
  var SVG = 'http://www.w3.org/2000/svg';
  var MARKS = {
    stale: { word: 'STALE WRITE', sign: '\u26a0', jump: 'the stale write' },
    refused: { word: 'REFUSED', sign: '\u2717', jump: 'the first refusal' },
    applied: { word: 'APPLIED IN ORDER', sign: '\u2713', jump: 'the cure applied' },
    fault: { word: 'FAULT', sign: '\u26a1', jump: 'the first fault' }
  };
  var STATUS = {
    holds: '\u2713 holds',
    fails: '\u2717 FAILS',
    waiting: '\u2026 not settled yet'
  };
  var ROW = 26;
  var HEAD = 6;
  var TITLE = 26;
  // The room between lanes; past eight lanes it narrows to fit about NARROW pixels, down to
  // GAP_MIN, and the lanes box scrolls sideways to keep each step's lanes in view.
  var GAP = 88;
  var GAP_MIN = 56;
  var NARROW = 640;
  var F = TicketsimFold;
  var has = F.has;

  var state = { view: null, row: 0 };
  var ui = {};

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    setAll(node, attrs);
    append(node, children);
    return node;
  }

  function svg(tag, attrs, children) {
    var node = document.createElementNS(SVG, tag);
    setAll(node, attrs);
    append(node, children);
    return node;
  }

  function setAll(node, attrs) {
    Object.keys(attrs || {}).forEach(function (k) {
      if (attrs[k] === null || attrs[k] === undefined || attrs[k] === false) return;
      if (k === 'text') node.textContent = attrs[k];
      else if (k.slice(0, 2) === 'on') node.addEventListener(k.slice(2), attrs[k]);
      else node.setAttribute(k, attrs[k] === true ? '' : String(attrs[k]));
    });
  }

  function append(node, children) {
    (children || []).forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
  }

  // ---- Drawing ---------------------------------------------------------------------------------

  function laneTitle(lane) {
    if (lane.slice(0, 3) === 'db:') return lane.slice(3) + ' database';
    if (lane === 'bus') return 'NATS';
    return lane;
  }

  // A step's mark in words: the page's word for it, or the step's own (a refund is the cure,
  // not an event applied in order).
  function markWord(step) {
    return MARKS[step.mark] ? step.word || MARKS[step.mark].word : '';
  }

  function badge(step) {
    if (!MARKS[step.mark]) return null;
    return el('span', { 'class': 'badge mark-' + step.mark, text: MARKS[step.mark].sign + ' ' + markWord(step) });
  }

  function laneX(side, lane) {
    return side.pad + side.lanes.indexOf(lane) * side.gap + side.gap / 2;
  }

  function diagram(view, s) {
    var side = view.sides[s];
    var n = side.lanes.length;
    var gap = side.gap = n > 8 ? Math.max(GAP_MIN, Math.floor(NARROW / n)) : GAP;
    side.pad = gap < GAP ? 30 : 10;
    var width = n * gap + 2 * side.pad;
    var height = HEAD + view.rows.length * ROW + 8;
    // The lanes' titles stay in view above the rows as they scroll.
    var titles = svg('svg', {
      'class': 'lanes lanes-head', viewBox: '0 0 ' + width + ' ' + TITLE, width: width, height: TITLE,
      'aria-hidden': 'true'
    });
    var root = svg('svg', {
      'class': 'lanes', viewBox: '0 0 ' + width + ' ' + height, width: width, height: height,
      role: 'img',
      'aria-label': 'Lanes and messages of the run ' + side.title + ', one row per step; ' +
        'the table of the whole story tells every step in words.'
    });
    var defs = svg('defs', {}, [svg('marker', {
      id: 'head-' + s, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8,
      markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse'
    }, [svg('path', { d: 'M0,0 L10,5 L0,10 z', 'class': 'head' })])]);
    root.appendChild(defs);
    side.highlight = svg('rect', { 'class': 'current-row', x: 0, y: HEAD, width: width, height: ROW });
    root.appendChild(side.highlight);
    side.lanes.forEach(function (lane, k) {
      var x = laneX(side, lane);
      // Narrowed lanes take their titles on two rows, every other one on each.
      var y = gap < GAP ? 11 + (k % 2) * 12 : 18;
      titles.appendChild(svg('text', { x: x, y: y, 'class': 'lane-title', 'text-anchor': 'middle', text: laneTitle(lane) }));
      root.appendChild(svg('line', { x1: x, y1: 0, x2: x, y2: height - 4, 'class': 'lane' }));
    });
    side.rowNodes = [];
    side.spans = [];
    view.rows.forEach(function (row, r) {
      var i = row[s];
      var g = svg('g', { 'class': 'row' });
      side.rowNodes.push(g);
      root.appendChild(g);
      if (!has(i)) return;
      var step = side.steps[i];
      var a = F.arrowOf(side.records[step.r]);
      var xs = [a.note, a.from, a.to].filter(has).map(function (lane) { return laneX(side, lane); });
      side.spans[r] = [Math.min.apply(null, xs) - gap, Math.max.apply(null, xs) + gap];
      var y = HEAD + r * ROW + ROW / 2 + 5;
      var mark = MARKS[step.mark] ? ' ' + MARKS[step.mark].sign : '';
      g.setAttribute('class', 'row mark-' + step.mark);
      g.appendChild(svg('title', { text: step.time + ' ' + step.actor + ' ' + step.text }));
      if (has(a.note) || a.from === a.to) {
        var x = laneX(side, a.note || a.from);
        g.appendChild(svg('rect', { x: x - gap / 2 + 4, y: y - 9, width: gap - 8, height: 16, rx: 3, 'class': 'note' }));
        var room = Math.round(gap * 20 / GAP);
        g.appendChild(svg('text', { x: x, y: y + 3, 'text-anchor': 'middle', 'class': 'label', text: shorten(step.label, room) + mark }));
        return;
      }
      var x1 = laneX(side, a.from);
      var x2 = laneX(side, a.to);
      var end = x2 + (x2 > x1 ? -3 : 3);
      g.appendChild(svg('line', {
        x1: x1, y1: y, x2: end, y2: y, 'class': 'arrow ' + a.style,
        'marker-end': a.style === 'cross' ? null : 'url(#head-' + s + ')'
      }));
      if (a.style === 'cross') {
        g.appendChild(svg('text', { x: x2, y: y + 4, 'text-anchor': 'middle', 'class': 'cross', text: '\u2717' }));
      }
      g.appendChild(svg('text', { x: (x1 + x2) / 2, y: y - 4, 'text-anchor': 'middle', 'class': 'label', text: step.label + mark }));
    });
    return el('div', { 'class': 'lanes-box', tabindex: 0, 'aria-label': 'Lanes of ' + side.title + ' (scrolls)' }, [titles, root]);
  }

  function shorten(text, n) {
    return text.length > n ? text.slice(0, n - 1) + '\u2026' : text;
  }

  function sidePanel(view, s) {
    var side = view.sides[s];
    var name = s === 0 ? 'race' : 'cure';
    var panel = el('section', { 'class': 'side', 'data-side': name, 'aria-labelledby': 'side-title-' + name }, [
      el('h2', { id: 'side-title-' + name, text: side.title }),
      el('p', { 'class': 'outcome outcome-' + side.outcome_kind }, ['Outcome of the whole run: ', el('strong', { text: side.outcome })]),
      el('p', { 'class': 'reproduce' }, ['Run it: ', el('code', { text: side.reproduce })])
    ]);
    side.nowBox = el('div', { 'class': 'now', 'data-part': 'now' });
    side.dbBox = el('div', { 'class': 'state', 'data-part': 'databases' });
    side.busBox = el('div', { 'class': 'state', 'data-part': 'bus' });
    side.checkBox = el('div', { 'class': 'state', 'data-part': 'checks' });
    append(panel, [side.nowBox, diagram(view, s), side.dbBox, side.busBox, side.checkBox]);
    return panel;
  }

  function storyTable(view) {
    var head = el('tr', {}, [el('th', { scope: 'col', text: 'Step' })]);
    view.sides.forEach(function (side) {
      append(head, [el('th', { scope: 'col', text: 'Time' }), el('th', { scope: 'col', text: side.title })]);
    });
    var body = el('tbody');
    view.rowNodes = [];
    view.rows.forEach(function (row, r) {
      var tr = el('tr', { 'data-row': r }, [el('td', {}, [el('button', {
        type: 'button', 'class': 'go', text: String(r + 1), 'aria-label': 'Go to step ' + (r + 1),
        onclick: function () { go(r); }
      })])]);
      view.sides.forEach(function (side, s) {
        var i = row[s];
        if (!has(i)) {
          append(tr, [el('td', { 'class': 'time' }), el('td', { 'class': 'quiet', text: '\u2014' })]);
          return;
        }
        var step = side.steps[i];
        append(tr, [
          el('td', { 'class': 'time', text: step.time }),
          el('td', { 'class': 'mark-' + step.mark }, [badge(step), ' ', el('b', { text: step.actor }), ' ' + step.text])
        ]);
      });
      view.rowNodes.push(tr);
      body.appendChild(tr);
    });
    var endings = view.sides.map(function (side) {
      return el('p', {}, [el('b', { text: side.title + ': ' }), side.ending]);
    });
    return el('section', { 'class': 'story', 'aria-labelledby': 'story-title' }, [
      el('h2', { id: 'story-title', text: 'The whole story, step by step' }),
      el('p', { text: 'Both runs side by side, each row one event: the same event in both runs sits on one row, at its own time in each.' }),
      el('div', { 'class': 'table-box' }, [el('table', {}, [
        el('caption', { text: 'Every step of ticket ' + view.ticket + '\u2019s story' }),
        el('thead', {}, [head]), body])])
    ].concat(endings));
  }

  function controls(view) {
    var n = view.rows.length;
    ui.range = el('input', {
      type: 'range', min: 0, max: Math.max(n - 1, 0), value: 0, id: 'step-range',
      'aria-label': 'Step', oninput: function () { go(Number(ui.range.value)); }
    });
    ui.where = el('span', { 'class': 'where', id: 'where' });
    var jumps = Object.keys(MARKS).map(function (mark) {
      var row = firstRow(view, mark);
      if (row < 0) return null;
      return el('button', {
        type: 'button', 'data-jump': mark, text: 'Go to ' + MARKS[mark].jump,
        onclick: function () { go(row); }
      });
    });
    // And to where each check other than the stale write (marked already) first breaks.
    var broken = {};
    view.sides.forEach(function (side) {
      side.checks.forEach(function (c) {
        if (c.id === 'stale' || !has(c.at_us)) return;
        var row = brokenRow(view, side, c.at_us);
        if (row >= 0 && (!has(broken[c.id]) || row < broken[c.id].row)) broken[c.id] = { row: row, name: c.name };
      });
    });
    Object.keys(broken).sort().forEach(function (id) {
      var at = broken[id];
      jumps.push(el('button', {
        type: 'button', 'data-jump': id, text: 'Go to where “' + at.name + '” breaks',
        onclick: function () { go(at.row); }
      }));
    });
    function button(what, label, to) {
      return el('button', { type: 'button', 'data-go': what, text: label, onclick: function () { go(to()); } });
    }
    return el('div', { id: 'controls', 'class': 'controls', role: 'group', 'aria-label': 'Step through the story' }, [
      button('first', '\u00ab First', function () { return 0; }),
      button('prev', '\u25c0 Previous', function () { return state.row - 1; }),
      ui.range,
      button('next', 'Next \u25b6', function () { return state.row + 1; }),
      button('last', 'Last \u00bb', function () { return n - 1; }),
      ui.where
    ].concat(jumps, [el('p', { 'class': 'hint', text: 'Keys: \u2190 and \u2192 step back and on, Home and End go to the first and last step.' })]));
  }

  // The first row at which `side`'s last step is at or after `at_us` (the last row if none).
  function brokenRow(view, side, at_us) {
    for (var r = 0; r < view.rows.length; r++) {
      var i = side.last[r];
      if (i >= 0 && side.steps[i].t >= at_us) return r;
    }
    return view.rows.length - 1;
  }

  function firstRow(view, mark) {
    for (var r = 0; r < view.rows.length; r++) {
      for (var s = 0; s < view.sides.length; s++) {
        var i = view.rows[r][s];
        if (has(i) && view.sides[s].steps[i].mark === mark) return r;
      }
    }
    return -1;
  }

  function show(index, row) {
    var view = data.views[index];
    state.view = view;
    view.sides.forEach(function (side) {
      side.lanes = F.lanesOf(side);
      side.last = [];
    });
    var seen = view.sides.map(function () { return -1; });
    view.rows.forEach(function (row, r) {
      view.sides.forEach(function (side, s) {
        if (has(row[s])) seen[s] = row[s];
        side.last[r] = seen[s];
      });
    });
    ui.navButtons.forEach(function (b, i) { b.setAttribute('aria-pressed', i === index ? 'true' : 'false'); });
    var sides = view.sides.map(function (side, s) { return sidePanel(view, s); });
    if (has(view.no_cure)) {
      sides.push(el('section', { 'class': 'side no-cure', 'data-side': 'cure' }, [
        el('h2', { text: 'No cure beside it' }), el('p', { text: view.no_cure })]));
    }
    var about = view.about.map(function (p) { return el('p', { text: p }); });
    var attachment = view.attachment ? el('details', { 'class': 'attachment' }, [
      el('summary', { text: view.attachment.name }),
      el('p', { text: view.attachment.note }),
      el('pre', { text: view.attachment.text })]) : null;
    ui.body.replaceChildren(
      el('h2', { 'class': 'view-heading', text: view.heading }),
      el('div', { 'class': 'about' }, about.concat([attachment])),
      controls(view),
      el('div', { 'class': 'sides' }, sides),
      storyTable(view)
    );
    go(has(row) ? row : 0, true);
  }

  function go(row, quiet) {
    var view = state.view;
    var n = view.rows.length;
    if (n === 0) return;
    row = Math.max(0, Math.min(n - 1, row));
    state.row = row;
    ui.range.value = String(row);
    var last = row === n - 1;
    var times = [];
    var said = [];
    view.sides.forEach(function (side, s) {
      var i = view.rows[row][s];
      var at = side.last[row];
      var st = F.fold(side, at >= 0 ? side.steps[at].r : -1);
      drawNow(view, side, i, at, last);
      drawDatabases(view, side, st, at);
      drawBus(view, side, st);
      drawChecks(view, side, st, at, last);
      side.highlight.setAttribute('y', HEAD + row * ROW);
      side.rowNodes.forEach(function (g, r) { g.classList.toggle('future', r > row); });
      if (has(i)) {
        times.push(side.steps[i].time);
        said.push(side.title + ': ' + side.steps[i].actor + ' ' + side.steps[i].text +
          (MARKS[side.steps[i].mark] ? ' (' + markWord(side.steps[i]) + ')' : ''));
      } else {
        said.push(side.title + ': nothing happens to the ticket here.');
      }
    });
    view.rowNodes.forEach(function (tr, r) {
      tr.classList.toggle('current', r === row);
      if (r === row) tr.setAttribute('aria-current', 'step');
      else tr.removeAttribute('aria-current');
    });
    var where = 'Step ' + (row + 1) + ' of ' + n + (times.length ? ' \u00b7 ' + times[0] : '');
    ui.where.textContent = where;
    ui.range.setAttribute('aria-valuetext', where);
    if (!quiet) ui.announce.textContent = where + '. ' + said.join(' ');
    try {
      history.replaceState(null, '', '#' + view.id + '/' + (row + 1));
    } catch (e) {
      // A page opened from a file may refuse to change its address; the step is shown anyway.
    }
    // The lanes scroll to the step at the next frame: measuring the boxes now would lay the
    // page out at every step, however fast the steps come.
    if (!ui.scrolling) {
      ui.scrolling = true;
      requestAnimationFrame(keepInView);
    }
  }

  // Each side's lanes scrolled so that the current step's row and lanes are in view.
  function keepInView() {
    ui.scrolling = false;
    var row = state.row;
    state.view.sides.forEach(function (side) {
      var box = side.rowNodes[row].ownerSVGElement.parentNode;
      var y = TITLE + HEAD + row * ROW;
      if (y < box.scrollTop + TITLE || y > box.scrollTop + box.clientHeight - 2 * ROW) {
        box.scrollTop = Math.max(0, y - box.clientHeight / 2);
      }
      var span = side.spans[row];
      if (span && (span[0] < box.scrollLeft || span[1] > box.scrollLeft + box.clientWidth)) {
        box.scrollLeft = Math.max(0, (span[0] + span[1] - box.clientWidth) / 2);
      }
    });
  }

  function drawNow(view, side, i, at, last) {
    var parts = [];
    if (has(i)) {
      var step = side.steps[i];
      parts.push(el('p', { 'class': 'sentence mark-' + step.mark, 'data-mark': step.mark, 'data-word': markWord(step) }, [
        badge(step), ' ', el('span', { 'class': 'time', text: step.time }), ' ',
        el('b', { text: step.actor }), ' ' + step.text]));
    } else {
      var before = at >= 0 ? side.steps[at] : null;
      parts.push(el('p', { 'class': 'sentence quiet', 'data-mark': 'none' }, [
        'Nothing happens to ticket ' + view.ticket + ' at this step in this run.' +
        (before ? ' Its last step: ' + before.time + ', ' + before.actor + ' ' + before.text : '')]));
    }
    if (last) parts.push(el('p', { 'class': 'ending' }, [el('b', { text: 'How it ends: ' }), side.ending]));
    side.nowBox.replaceChildren.apply(side.nowBox, [el('h3', { text: 'This step' })].concat(parts));
  }

  function drawDatabases(view, side, st, at) {
    var justNow = at >= 0 ? side.steps[at].r : -1;
    var rows = st.docs.map(function (d) {
      var fresh = d.at === justNow;
      // A copy the checks do not compare (an order's, in the payments database) says where it
      // differs from its source.
      var differs = d.source && data.compared.indexOf(d.set) < 0 ? F.differences(side, d).map(function (f) {
        return f[0].replace('_', ' ') + ' ' + f[2] + ' in the ' + d.source.db + ' database';
      }) : [];
      var now = (fresh ? ['just written'] : []).concat(differs.length ? ['differs: ' + differs.join(', ')] : []);
      return el('tr', { 'data-doc': d.key, 'class': fresh ? 'fresh' : null }, [
        el('th', { scope: 'row', text: d.db + ' database' }),
        el('td', { text: d.collection + ' ' + d.id }),
        el('td', {}, d.fields.map(function (f, k) {
          return el('span', { 'class': 'field', 'data-field': f[0] }, [
            (k ? ' \u00b7 ' : '') + f[0].replace('_', ' ') + ' ', el('b', { text: String(f[1]) })]);
        })),
        el('td', { 'data-differs': differs.length > 0, text: now.join('; ') })
      ]);
    });
    var table = rows.length ? el('table', {}, [
      el('caption', { text: 'Each database\u2019s copy, as its writes leave it' }),
      el('thead', {}, [el('tr', {}, [el('th', { scope: 'col', text: 'Database' }), el('th', { scope: 'col', text: 'Document' }),
        el('th', { scope: 'col', text: 'Stored' }), el('th', { scope: 'col', text: 'Now' })])]),
      el('tbody', {}, rows)]) : el('p', { text: 'No database holds ticket ' + view.ticket + ' yet.' });
    side.dbBox.replaceChildren(el('h3', { text: 'Databases' }), table);
  }

  function drawBus(view, side, st) {
    var items = st.messages.map(function (m) {
      // A message sent to several services' groups is pending in each until each acks it.
      var each = m.msg.groups.length > 1 ? ' for ' + m.group : '';
      return el('li', { 'data-message': m.key, 'data-group': m.group, 'data-status': m.status }, [
        el('b', { text: m.key }), m.what ? ' (' + m.what + ')' : '', each + ': ' + m.words]);
    });
    var list = items.length ? el('ul', {}, items)
      : el('p', { text: 'Nothing pending: every message about ticket ' + view.ticket + ' so far is acked.' });
    side.busBox.replaceChildren(el('h3', { text: 'NATS: messages not yet acked (' + st.messages.length + '), ' + st.acked + ' acked' }), list);
  }

  function drawChecks(view, side, st, at, last) {
    var t = at >= 0 ? side.steps[at].t : -1;
    var copies = F.copiesCheck(side, st, data.compared);
    var items = [check('copies', 'the copies agree (converged so far)', copies[0], copies[1])];
    side.checks.forEach(function (c) {
      var broken = has(c.at_us) && (last || t >= c.at_us);
      var status = broken ? 'fails' : (c.id === 'settles' && !last ? 'waiting' : 'holds');
      var words = broken ? c.broken : (status === 'waiting' ? 'known when the run ends' : 'holds so far: ' + c.what);
      if (last && !broken) words = 'holds: ' + c.what;
      items.push(check(c.id, c.name, status, words));
    });
    side.checkBox.replaceChildren(el('h3', { text: 'Checks' }), el('ul', { 'class': 'checks' }, items));
  }

  function check(id, name, status, words) {
    return el('li', { 'data-check': id, 'data-status': status }, [
      el('span', { 'class': 'status status-' + status, text: STATUS[status] }), ' ',
      el('b', { text: name }), ': ' + words]);
  }

  // ---- The page: the runs it holds, the keys, the address ---------------------------------------

  function onKey(e) {
    if (e.altKey || e.ctrlKey || e.metaKey || !state.view) return;
    var tag = e.target && e.target.tagName;
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return;
    var to = null;
    if (e.key === 'ArrowRight') to = state.row + 1;
    else if (e.key === 'ArrowLeft') to = state.row - 1;
    else if (e.key === 'Home') to = 0;
    else if (e.key === 'End') to = state.view.rows.length - 1;
    if (to === null) return;
    e.preventDefault();
    go(to);
  }

  function fromAddress() {
    var hash = decodeURIComponent(location.hash.replace(/^#/, ''));
    var parts = hash.split('/');
    var index = 0;
    data.views.forEach(function (v, i) { if (v.id === parts[0]) index = i; });
    var row = parts.length > 1 ? Number(parts[1]) - 1 : 0;
    return [index, isFinite(row) ? row : 0];
  }

  function start() {
    ui.navButtons = data.views.map(function (v, i) {
      return el('button', { type: 'button', 'data-view': v.id, text: v.name, onclick: function () { show(i, 0); } });
    });
    ui.announce = el('div', { 'class': 'sr-only', 'aria-live': 'polite', id: 'announce' });
    ui.body = el('div', { id: 'view' });
    var nav = data.views.length > 1
      ? el('nav', { 'aria-label': 'Runs in this page' }, [el('span', { text: 'Runs in this page: ' })].concat(ui.navButtons))
      : null;
    append(main, [nav, ui.announce, ui.body]);
    document.addEventListener('keydown', onKey);
    window.addEventListener('hashchange', function () {
      var at = fromAddress();
      if (data.views[at[0]] !== state.view) show(at[0], at[1]);
      else if (at[1] !== state.row) go(at[1]);
    });
    var at = fromAddress();
    show(at[0], at[1]);
    document.documentElement.setAttribute('data-ready', 'true');
  }

  start();
})();
