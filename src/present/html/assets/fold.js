// fold.js: what a ticketsim page knows of a run at a step (src/present/html/mod.rs includes it
// inline, before viewer.js, which draws it).
//
// Everything is found in the trace records' own fields (node, db, collection, subject, seq,
// replica, by), so a node, a database or a record kind it does not know still shows: as a
// lane, a stored document, a pending message or a note. Nothing of the model is recomputed:
// the state at a step is the fold of the records up to it.
var TicketsimFold = (function () {
  'use strict';

  var FIELD_ORDER = ['price', 'status', 'version', 'title', 'order_id', 'ticket', 'order', 'charge', 'user_id'];
  var HIDDEN_FIELDS = ['t_us', 'node', 'kind', 'db', 'collection', 'by'];

  function has(value) {
    return value !== null && value !== undefined;
  }

  // ---- Lanes and arrows, from the records' fields -------------------------------------------

  function dbLane(db) {
    return 'db:' + db;
  }

  // The group of a lane: a queue group's member without its number (orders-3: orders).
  function groupOf(lane) {
    return String(lane).replace(/-\d+$/, '');
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

  // The lanes of a run, as its steps bring them in: the services and NATS (second), the
  // numbered members of a group side by side; each database left of the first lane when that
  // lane writes it first, else right of the group of the lane that first writes it.
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
    var number = function (lane) { var m = /-(\d+)$/.exec(lane); return m ? Number(m[1]) : 0; };
    var groups = [];
    nodes.forEach(function (lane) { if (groups.indexOf(groupOf(lane)) < 0) groups.push(groupOf(lane)); });
    nodes.sort(function (a, b) {
      var d = groups.indexOf(groupOf(a)) - groups.indexOf(groupOf(b));
      return d !== 0 ? d : number(a) - number(b);
    });
    var lanes = dbs.filter(function (d) { return writer[d] === nodes[0]; });
    nodes.forEach(function (lane, i) {
      lanes.push(lane);
      if (i + 1 < nodes.length && groupOf(nodes[i + 1]) === groupOf(lane)) return;
      dbs.forEach(function (d) {
        if (writer[d] !== nodes[0] && groupOf(writer[d]) === groupOf(lane)) lanes.push(d);
      });
    });
    return lanes.concat(dbs.filter(function (d) { return lanes.indexOf(d) < 0; }));
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

  // The state of `side` once its records up to `upto` have happened: each database's documents
  // as their writes left them (each with the first copy written of the same document, its
  // source), and what NATS holds unacked: one entry per message and queue group it was sent
  // to, since a subject that several services listen to is delivered and acked once in each.
  // Stepping on reads only the records since the last step; stepping back starts again.
  function fold(side, upto) {
    if (!side.folder || side.folder.state.upto > upto) side.folder = folder();
    var f = side.folder;
    for (var i = f.state.upto + 1; i <= upto; i++) f.read(side.records[i], i);
    f.state.upto = upto;
    return f.state;
  }

  // A fold from the first record: its state, and how it reads the next record.
  function folder() {
    var docs = [];
    var docAt = {};
    var messages = [];
    var sent = {};
    var pending = {};
    var state = { docs: docs, messages: messages, acked: 0, upto: -1 };
    function publish(key, what, words) {
      sent[key] = { what: what, groups: [] };
      pending[key + '>'] = { key: key, what: what, msg: sent[key], group: '', status: 'published', words: words, holder: null };
      messages.push(pending[key + '>']);
    }
    // The entry of message `key` in the group of `member`; a send makes it, from the entry of a
    // message not yet sent anywhere, or beside the entries of the groups it was sent to before.
    function entry(key, member, sending) {
      if (!key || !sent[key] || !has(member)) return null;
      var group = groupOf(member);
      var m = pending[key + '>' + group];
      if (m || !sending) return m || null;
      m = pending[key + '>'];
      delete pending[key + '>'];
      if (!m) {
        m = { key: key, what: sent[key].what, msg: sent[key], holder: null };
        messages.push(m);
      }
      m.group = group;
      sent[key].groups.push(group);
      pending[key + '>' + group] = m;
      return m;
    }
    function set(m, status, words, holder) {
      if (!m) return;
      m.status = status;
      m.words = words;
      if (holder !== undefined) m.holder = holder;
    }
    function read(rec, i) {
      var kind = rec.kind;
      var key = has(rec.subject) && has(rec.seq) ? messageKey(rec.subject, rec.seq) : null;
      var member = has(rec.replica) ? rec.replica : rec.node;
      if (kind === 'db.write' && typeof rec.db === 'string') {
        var collection = rec.collection || 'tickets';
        var idField = collection.replace(/s$/, '');
        var id = has(rec[idField]) ? rec[idField] : rec.id;
        var docKey = rec.db + '/' + collection + '/' + id;
        if (!docAt[docKey]) {
          var source = docs.filter(function (d) { return d.set === collection && d.id === id; })[0];
          docAt[docKey] = { db: rec.db, set: collection, collection: idField, id: id, key: docKey, source: source || null };
          docs.push(docAt[docKey]);
        }
        docAt[docKey].fields = docFields(rec, idField);
        docAt[docKey].at = i;
      }
      if (kind === 'publish' && key) {
        publish(key, payloadWords(rec), 'published by ' + rec.node + ', not yet sent');
      } else if (kind === 'duplicate' && key && sent[messageKey(rec.subject, rec.of)]) {
        publish(key, sent[messageKey(rec.subject, rec.of)].what,
          'a second copy of #' + rec.of + ', as if its publisher retried');
      } else if (kind === 'send') {
        set(entry(key, member, true), 'sent', 'sent to ' + member + ', not yet acked', member);
      } else if (kind === 'redeliver') {
        set(entry(key, member, true), 'sent', 'sent again to ' + member + ' (delivery ' + rec.attempt +
          '), not yet acked', member);
      } else if (kind === 'deliver') {
        set(entry(key, member), 'handling', member + ' is handling it, not yet acked', member);
      } else if (kind === 'lost') {
        set(entry(key, member), 'lost', 'lost on its way to ' + member +
          ': NATS sends it again after the ack wait', member);
      } else if (kind === 'nack') {
        set(entry(key, member), 'refused', 'REFUSED by ' + member +
          ' (' + rec.reason + '), not acked: NATS sends it again after the ack wait');
      } else if (kind === 'ack-lost') {
        set(entry(key, member), 'refused', 'acked by ' + member +
          ', but the ack was lost: NATS sends it again after the ack wait');
      } else if (kind === 'redelivery-loop') {
        messages.forEach(function (m) {
          if (m.key === key) set(m, 'stuck', 'given up after ' + rec.deliveries + ' deliveries, never acked');
        });
      } else if ((kind === 'ack' || kind === 'drop') && entry(key, member)) {
        var done = entry(key, member);
        messages.splice(messages.indexOf(done), 1);
        delete pending[key + '>' + done.group];
        state.acked += 1;
      } else if (typeof rec.by === 'string' && entry(rec.by.replace('#', ' #'), rec.node)) {
        var by = entry(rec.by.replace('#', ' #'), rec.node);
        if (kind === 'db.write') {
          set(by, 'applied', 'applied by ' + rec.node + ', not yet acked');
        } else {
          set(by, 'refused', 'its write failed at ' + rec.node + ' (' + rec.error + '), not acked');
        }
      }
    }
    return { state: state, read: read };
  }

  // The fields on which `copy` differs from its source, as [field, the copy's value, the
  // source's]: those both hold (versions only when the run versions documents).
  function differences(side, copy) {
    var own = {};
    copy.source.fields.forEach(function (f) { own[f[0]] = f[1]; });
    return copy.fields.filter(function (f) {
      return Object.prototype.hasOwnProperty.call(own, f[0]) && (f[0] !== 'version' || side.versioned) &&
        JSON.stringify(own[f[0]]) !== JSON.stringify(f[1]);
    }).map(function (f) { return [f[0], f[1], own[f[0]]]; });
  }

  // Whether the copies of each document of the collections `compared` (those the run's
  // outcome compares) agree with their source, as [status, words].
  function copiesCheck(side, st, compared) {
    var said = [];
    var copies = 0;
    st.docs.forEach(function (d) {
      if (!d.source || compared.indexOf(d.set) < 0) return;
      copies += 1;
      differences(side, d).forEach(function (f) {
        said.push(d.collection + ' ' + d.id + ': ' + f[0] + ' ' + f[1] + ' in the ' + d.db +
          ' database, ' + f[2] + ' in the ' + d.source.db + ' database');
      });
    });
    var coming = st.messages.filter(function (m) { return m.status !== 'applied'; }).length;
    if (copies === 0) return ['waiting', 'no copy yet'];
    if (said.length === 0) return ['holds', 'the copies agree'];
    if (coming > 0) {
      return ['waiting', 'they differ (' + said.join('; ') + '), with ' + coming + ' message' +
        (coming === 1 ? '' : 's') + ' still to be applied'];
    }
    return ['fails', 'they differ (' + said.join('; ') + '), and no message on its way will change that'];
  }

  return {
    has: has, groupOf: groupOf, arrowOf: arrowOf, lanesOf: lanesOf, fold: fold,
    differences: differences, copiesCheck: copiesCheck
  };
})();
