// viewer.js: the script of a ticketsim page (src/present/html/mod.rs includes it inline).
//
// It reads the page's data (the #ticketsim-data element: for each view, each run's trace
// records about the ticket followed, the story's steps and the checks) and draws the lanes and
// arrows, the step controls, and at every step each database's copy of the ticket, the bus's
// pending messages and every check's status. Everything is found in the records' own fields
// (node, db, subject, seq, replica, by), so a node, a database or a record kind it does not
// know still shows: an unknown kind is a note labelled with its name. Nothing of the model is
// recomputed: the state at a step is the fold of the records up to it.
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
  var FIELD_ORDER = ['price', 'status', 'version', 'title', 'order_id', 'ticket', 'user_id'];
  var HIDDEN_FIELDS = ['t_us', 'node', 'kind', 'db', 'collection', 'by'];
  var ROW = 26;
  var HEAD = 6;
  var TITLE = 26;
  var GAP = 88;

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

  function has(value) {
    return value !== null && value !== undefined;
  }

  // ---- Lanes and arrows, from the records' fields -------------------------------------------

  function dbLane(db) {
    return 'db:' + db;
  }

  function laneTitle(lane) {
    if (lane.slice(0, 3) === 'db:') return lane.slice(3) + ' database';
    if (lane === 'bus') return 'NATS';
    return lane;
  }

  // How a record is drawn: a message from one lane to another, or a note over one lane.
  function arrowOf(rec) {
    var kind = rec.kind;
    var node = rec.node;
    if (typeof rec.db === 'string') {
      var failed = kind.indexOf('conflict') >= 0;
      return { from: node, to: dbLane(rec.db), style: failed ? 'cross' : 'solid' };
    }
    if (kind === 'publish') return { from: node, to: 'bus', style: 'solid' };
    if (kind === 'deliver') return { from: 'bus', to: node, style: 'solid' };
    if (kind === 'lost' && rec.replica) return { from: 'bus', to: rec.replica, style: 'cross' };
    if (kind === 'ack' || kind === 'drop') return { from: node, to: 'bus', style: 'dashed' };
    if (kind === 'nack' || kind === 'ack-lost') {
      return { from: rec.replica || node, to: 'bus', style: 'cross' };
    }
    return { note: typeof rec.target === 'string' ? rec.target : node };
  }

  // The lanes of a run, as its steps bring them in: the services and NATS (second), then each
  // database, beside the first lane when that lane writes it first, else at the far end.
  function lanesOf(side) {
    var nodes = [];
    var dbs = [];
    var writer = {};
    side.steps.forEach(function (step) {
      var a = arrowOf(side.records[step.r]);
      [a.note, a.from, a.to].forEach(function (lane) {
        if (!lane) return;
        if (lane.slice(0, 3) === 'db:') {
          if (dbs.indexOf(lane) < 0) {
            dbs.push(lane);
            writer[lane] = a.from;
          }
        } else if (nodes.indexOf(lane) < 0) nodes.push(lane);
      });
    });
    var bus = nodes.indexOf('bus');
    if (bus > 1) {
      nodes.splice(bus, 1);
      nodes.splice(1, 0, 'bus');
    }
    // Numbered members of one group (orders-3, orders-1) side by side, in number order.
    var group = function (lane) { return lane.replace(/-\d+$/, ''); };
    var number = function (lane) { var m = /-(\d+)$/.exec(lane); return m ? Number(m[1]) : 0; };
    var groups = [];
    nodes.forEach(function (lane) { if (groups.indexOf(group(lane)) < 0) groups.push(group(lane)); });
    nodes.sort(function (a, b) {
      var d = groups.indexOf(group(a)) - groups.indexOf(group(b));
      return d !== 0 ? d : number(a) - number(b);
    });
    var left = dbs.filter(function (d) { return writer[d] === nodes[0]; });
    var right = dbs.filter(function (d) { return writer[d] !== nodes[0]; });
    return left.concat(nodes, right);
  }

  // ---- The state at a step: the fold of the records up to it --------------------------------

  function messageKey(subject, seq) {
    return subject + ' #' + seq;
  }

  function docFields(rec, idField) {
    var keys = Object.keys(rec).filter(function (k) {
      return HIDDEN_FIELDS.indexOf(k) < 0 && k !== idField;
    });
    keys.sort(function (a, b) {
      var ia = FIELD_ORDER.indexOf(a);
      var ib = FIELD_ORDER.indexOf(b);
      if (ia < 0) ia = FIELD_ORDER.length;
      if (ib < 0) ib = FIELD_ORDER.length;
      return ia !== ib ? ia - ib : (a < b ? -1 : a > b ? 1 : 0);
    });
    return keys.map(function (k) { return [k, rec[k]]; });
  }

  function payloadWords(rec) {
    var parts = [];
    if (has(rec.price)) parts.push('price ' + rec.price);
    if (has(rec.status)) parts.push(String(rec.status));
    if (has(rec.order)) parts.push('order ' + rec.order);
    if (has(rec.version)) parts.push('version ' + rec.version);
    return parts.join(', ');
  }

  function fold(side, upto) {
    var docs = [];
    var docAt = {};
    var messages = [];
    var byKey = {};
    var acked = 0;
    function setMessage(key, status, words, holder) {
      var m = byKey[key];
      if (!m) return;
      m.status = status;
      m.words = words;
      if (holder !== undefined) m.holder = holder;
    }
    for (var i = 0; i <= upto; i++) {
      var rec = side.records[i];
      var kind = rec.kind;
      var key = has(rec.subject) && has(rec.seq) ? messageKey(rec.subject, rec.seq) : null;
      if (kind === 'db.write' && typeof rec.db === 'string') {
        var collection = rec.collection || 'tickets';
        var idField = collection.replace(/s$/, '');
        var id = has(rec[idField]) ? rec[idField] : rec.id;
        var docKey = rec.db + '/' + collection + '/' + id;
        if (!docAt[docKey]) {
          docAt[docKey] = { db: rec.db, collection: idField, id: id, key: docKey };
          docs.push(docAt[docKey]);
        }
        docAt[docKey].fields = docFields(rec, idField);
        docAt[docKey].at = i;
      }
      if (kind === 'publish' && key) {
        byKey[key] = {
          key: key, what: payloadWords(rec), status: 'published',
          words: 'published by ' + rec.node + ', not yet sent', holder: null
        };
        messages.push(byKey[key]);
      } else if (kind === 'duplicate' && key && byKey[messageKey(rec.subject, rec.of)]) {
        byKey[key] = {
          key: key, what: byKey[messageKey(rec.subject, rec.of)].what, status: 'published',
          words: 'a second copy of #' + rec.of + ', as if its publisher retried', holder: null
        };
        messages.push(byKey[key]);
      } else if (kind === 'send') {
        setMessage(key, 'sent', 'sent to ' + rec.replica + ', not yet acked', rec.replica);
      } else if (kind === 'redeliver') {
        setMessage(key, 'sent', 'sent again to ' + rec.replica + ' (delivery ' + rec.attempt +
          '), not yet acked', rec.replica);
      } else if (kind === 'deliver') {
        setMessage(key, 'handling', rec.node + ' is handling it, not yet acked', rec.node);
      } else if (kind === 'lost') {
        setMessage(key, 'lost', 'lost on its way to ' + rec.replica +
          ': NATS sends it again after the ack wait', rec.replica);
      } else if (kind === 'nack') {
        setMessage(key, 'refused', 'REFUSED by ' + (rec.replica || rec.node) +
          ' (' + rec.reason + '), not acked: NATS sends it again after the ack wait');
      } else if (kind === 'ack-lost') {
        setMessage(key, 'refused', 'acked by ' + (rec.replica || rec.node) +
          ', but the ack was lost: NATS sends it again after the ack wait');
      } else if (kind === 'redelivery-loop') {
        setMessage(key, 'stuck', 'given up after ' + rec.deliveries + ' deliveries, never acked');
      } else if ((kind === 'ack' || kind === 'drop') && byKey[key]) {
        messages.splice(messages.indexOf(byKey[key]), 1);
        delete byKey[key];
        acked += 1;
      } else if (typeof rec.by === 'string' && byKey[rec.by.replace('#', ' #')]) {
        var by = rec.by.replace('#', ' #');
        if (kind === 'db.write') {
          setMessage(by, 'applied', 'applied by ' + rec.node + ', not yet acked');
        } else {
          setMessage(by, 'refused', 'its write failed at ' + rec.node + ' (' + rec.error +
            '), not acked');
        }
      }
    }
    return { docs: docs, messages: messages, acked: acked };
  }

  // Whether each document held in more than one database agrees with its first copy, on the
  // fields both hold (versions only when the run versions documents).
  function copiesCheck(side, st) {
    var groups = {};
    var order = [];
    st.docs.forEach(function (d) {
      var k = d.collection + ' ' + d.id;
      if (!groups[k]) {
        groups[k] = [];
        order.push(k);
      }
      groups[k].push(d);
    });
    var differences = [];
    var copies = 0;
    order.forEach(function (k) {
      var source = groups[k][0];
      var own = {};
      source.fields.forEach(function (f) { own[f[0]] = f[1]; });
      groups[k].slice(1).forEach(function (copy) {
        copies += 1;
        copy.fields.forEach(function (f) {
          if (!(f[0] in own) || (f[0] === 'version' && !side.versioned)) return;
          if (JSON.stringify(own[f[0]]) !== JSON.stringify(f[1])) {
            differences.push(k + ': ' + f[0] + ' ' + f[1] + ' in the ' + copy.db +
              ' database, ' + own[f[0]] + ' in the ' + source.db + ' database');
          }
        });
      });
    });
    var coming = st.messages.filter(function (m) { return m.status !== 'applied'; }).length;
    if (copies === 0) return ['waiting', 'no copy yet'];
    if (differences.length === 0) return ['holds', 'the copies agree'];
    var said = differences.join('; ');
    if (coming > 0) {
      return ['waiting', 'they differ (' + said + '), with ' + coming + ' message' +
        (coming === 1 ? '' : 's') + ' still to be applied'];
    }
    return ['fails', 'they differ (' + said + '), and no message on its way will change that'];
  }

  // ---- Drawing ---------------------------------------------------------------------------------

  function badge(mark) {
    if (!MARKS[mark]) return null;
    return el('span', { 'class': 'badge mark-' + mark, text: MARKS[mark].sign + ' ' + MARKS[mark].word });
  }

  function laneX(side, lane) {
    return 10 + side.lanes.indexOf(lane) * GAP + GAP / 2;
  }

  function diagram(view, s) {
    var side = view.sides[s];
    var width = side.lanes.length * GAP + 20;
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
    side.lanes.forEach(function (lane) {
      var x = laneX(side, lane);
      titles.appendChild(svg('text', { x: x, y: 18, 'class': 'lane-title', 'text-anchor': 'middle', text: laneTitle(lane) }));
      root.appendChild(svg('line', { x1: x, y1: 0, x2: x, y2: height - 4, 'class': 'lane' }));
    });
    side.rowNodes = [];
    view.rows.forEach(function (row, r) {
      var i = row[s];
      var g = svg('g', { 'class': 'row' });
      side.rowNodes.push(g);
      root.appendChild(g);
      if (!has(i)) return;
      var step = side.steps[i];
      var a = arrowOf(side.records[step.r]);
      var y = HEAD + r * ROW + ROW / 2 + 5;
      var mark = MARKS[step.mark] ? ' ' + MARKS[step.mark].sign : '';
      g.setAttribute('class', 'row mark-' + step.mark);
      g.appendChild(svg('title', { text: step.time + ' ' + step.actor + ' ' + step.text }));
      if (has(a.note) || a.from === a.to) {
        var x = laneX(side, a.note || a.from);
        g.appendChild(svg('rect', { x: x - GAP / 2 + 4, y: y - 9, width: GAP - 8, height: 16, rx: 3, 'class': 'note' }));
        g.appendChild(svg('text', { x: x, y: y + 3, 'text-anchor': 'middle', 'class': 'label', text: shorten(step.label, 20) + mark }));
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
          el('td', { 'class': 'mark-' + step.mark }, [badge(step.mark), ' ', el('b', { text: step.actor }), ' ' + step.text])
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
      side.lanes = lanesOf(side);
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
      var st = fold(side, at >= 0 ? side.steps[at].r : -1);
      drawNow(view, side, i, at, last);
      drawDatabases(view, side, st, at);
      drawBus(view, side, st);
      drawChecks(view, side, st, at, last);
      side.highlight.setAttribute('y', HEAD + row * ROW);
      side.rowNodes.forEach(function (g, r) { g.classList.toggle('future', r > row); });
      if (has(i)) {
        times.push(side.steps[i].time);
        said.push(side.title + ': ' + side.steps[i].actor + ' ' + side.steps[i].text +
          (MARKS[side.steps[i].mark] ? ' (' + MARKS[side.steps[i].mark].word + ')' : ''));
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
    var current = view.sides.map(function (side) { return side.rowNodes[row]; });
    current.forEach(function (g) {
      var box = g.ownerSVGElement.parentNode;
      var y = TITLE + HEAD + row * ROW;
      if (y < box.scrollTop + TITLE || y > box.scrollTop + box.clientHeight - 2 * ROW) {
        box.scrollTop = Math.max(0, y - box.clientHeight / 2);
      }
    });
  }

  function drawNow(view, side, i, at, last) {
    var parts = [];
    if (has(i)) {
      var step = side.steps[i];
      parts.push(el('p', { 'class': 'sentence mark-' + step.mark, 'data-mark': step.mark }, [
        badge(step.mark), ' ', el('span', { 'class': 'time', text: step.time }), ' ',
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
      return el('tr', { 'data-doc': d.key, 'class': fresh ? 'fresh' : null }, [
        el('th', { scope: 'row', text: d.db + ' database' }),
        el('td', { text: d.collection + ' ' + d.id }),
        el('td', {}, d.fields.map(function (f, k) {
          return el('span', { 'class': 'field', 'data-field': f[0] }, [
            (k ? ' \u00b7 ' : '') + f[0].replace('_', ' ') + ' ', el('b', { text: String(f[1]) })]);
        })),
        el('td', { text: fresh ? 'just written' : '' })
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
      return el('li', { 'data-message': m.key, 'data-status': m.status }, [
        el('b', { text: m.key }), m.what ? ' (' + m.what + ')' : '', ': ' + m.words]);
    });
    var list = items.length ? el('ul', {}, items)
      : el('p', { text: 'Nothing pending: every message about ticket ' + view.ticket + ' so far is acked.' });
    side.busBox.replaceChildren(el('h3', { text: 'NATS: messages not yet acked (' + st.messages.length + '), ' + st.acked + ' acked' }), list);
  }

  function drawChecks(view, side, st, at, last) {
    var t = at >= 0 ? side.steps[at].t : -1;
    var copies = copiesCheck(side, st);
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
