/* The HTML report's script (output-html.c embeds it): the changes of the
 * data block as a collapsible directory tree with a count and the changed
 * bytes of each directory, filters by change kind, a path search, each
 * change's fields old -> new and its diff. Rendered as it is opened, a page
 * at a time, so that 100,000 changes stay usable. Text is only ever set as
 * text, never parsed as markup. */
(function () {
  'use strict';
  var KINDS = ['added', 'removed', 'modified', 'metadata', 'type'];
  var PAGE = 200;      /* entries of a directory rendered at once */
  var AUTO_OPEN = 40;  /* a directory with at most this many changes opens itself, */
  var BUDGET = 400;    /* while no more than this many were opened so far */
  var TREE = 0, PATH = 1, CHANGE = 2, KIND = 3, SIZE = 4, BYTES = 5, FIELDS = 6, DIFF = 7, NOTE = 8;

  var app = document.getElementById('app');
  var block = document.getElementById('report-data');
  if (!app || !block) return;
  var data = JSON.parse(block.textContent);
  var changes = data.changes, trees = data.trees;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  /* Powers of 1024 as the C writers print them (format_size). */
  function human(n) {
    if (n < 1024) return n + ' B';
    var units = 'KMGTPE', u = 0, v = n / 1024;
    while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
    if (v < 9.95) return v.toFixed(1) + units[u];
    if (v < 1023.5 || u === units.length - 1) return v.toFixed(0) + units[u];
    return '1.0' + units[u + 1];
  }

  function plural(n, word) { return n.toLocaleString('en') + ' ' + word + (n === 1 ? '' : 's'); }

  /* ---- the tree: a node a path component, the change at its path ---- */
  function Node(name, parent) {
    this.name = name; this.parent = parent;
    this.kids = null; this.order = null; this.self = -1;
    this.vn = 0; this.vb = 0;
  }
  var nodes = [];
  var roots = trees.map(function (t) { var n = new Node(t, null); nodes.push(n); return n; });
  var nodeOf = new Array(changes.length);
  for (var i = 0; i < changes.length; i++) {
    var c = changes[i], node = roots[c[TREE]], parts = c[PATH].split('/');
    for (var j = 0; j < parts.length; j++) {
      var part = parts[j];
      if (part === '') continue;
      var kid = node.kids ? node.kids.get(part) : undefined;
      if (!kid) {
        kid = new Node(part, node);
        nodes.push(kid);
        if (!node.kids) { node.kids = new Map(); node.order = []; }
        node.kids.set(part, kid);
        node.order.push(kid);
      }
      node = kid;
    }
    node.self = i;
    nodeOf[i] = node;
  }

  function fullPath(c) { return (trees.length > 1 && trees[c[TREE]] !== '/' ? trees[c[TREE]] + ':' : '') + c[PATH]; }

  /* ---- filters ---- */
  var enabled = {}, query = '', lower = null;
  var counts = {};
  KINDS.forEach(function (k) { enabled[k] = true; counts[k] = 0; });
  changes.forEach(function (c) { counts[c[CHANGE]] = (counts[c[CHANGE]] || 0) + 1; });

  function visible(i) {
    var c = changes[i];
    if (!enabled[c[CHANGE]]) return false;
    if (!query) return true;
    if (!lower) lower = changes.map(function (x) { return fullPath(x).toLowerCase(); });
    return lower[i].indexOf(query) >= 0;
  }

  var shownTotal = 0;
  function recount() {
    for (var i = 0; i < nodes.length; i++) { nodes[i].vn = 0; nodes[i].vb = 0; }
    shownTotal = 0;
    for (i = 0; i < changes.length; i++) {
      if (!visible(i)) continue;
      shownTotal++;
      var b = changes[i][BYTES];
      for (var n = nodeOf[i]; n; n = n.parent) { n.vn++; n.vb += b; }
    }
  }

  /* ---- rendering ---- */
  function badge(c) { return el('span', 'badge c-' + c[CHANGE], c[CHANGE]); }

  function kindText(c) {
    if (c[CHANGE] === 'type') {
      for (var i = 0; i < c[FIELDS].length; i++)
        if (c[FIELDS][i][0] === 'kind') return c[FIELDS][i][1] + ' \u2192 ' + c[FIELDS][i][2];
    }
    return c[KIND];
  }

  function diffBlock(text) {
    var pre = el('pre', 'diff'), lines = text.split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    lines.forEach(function (line) {
      var cls = '';
      if (line.lastIndexOf('+++', 0) === 0 || line.lastIndexOf('---', 0) === 0) cls = 'head';
      else if (line.lastIndexOf('@@', 0) === 0) cls = 'hunk';
      else if (line[0] === '+') cls = 'add';
      else if (line[0] === '-') cls = 'del';
      pre.appendChild(el('span', cls, line));
    });
    return pre;
  }

  function detail(c) {
    var box = el('div', 'detail');
    box.appendChild(el('div', 'path', fullPath(c)));
    var fields = c[FIELDS];
    if (fields.length) {
      var table = el('table'), head = el('tr');
      ['field', 'old (A)', 'new (B)'].forEach(function (h) { head.appendChild(el('th', null, h)); });
      table.appendChild(head);
      fields.forEach(function (f) {
        var tr = el('tr');
        /* [name, value]: the one side an added or removed entry has. */
        var vals = f.length === 3 ? [f[1], f[2]] : c[CHANGE] === 'removed' ? [f[1], null] : [null, f[1]];
        tr.appendChild(el('th', null, f[0]));
        vals.forEach(function (v) { tr.appendChild(v === null ? el('td', 'none', '(none)') : el('td', null, v)); });
        table.appendChild(tr);
      });
      box.appendChild(table);
    }
    if (c[NOTE]) box.appendChild(el('p', 'note', c[NOTE]));
    if (c[DIFF]) box.appendChild(diffBlock(c[DIFF]));
    return box;
  }

  var budget = BUDGET;
  /* Runs fn once, the first time d is opened; the returned function runs
   * it now (when d is open). A reader's click gets a fresh budget. */
  function onFirstOpen(d, fn) {
    var done = false;
    function go() { if (d.open && !done) { done = true; fn(); } }
    d.addEventListener('toggle', function () { if (!done) budget = BUDGET; go(); });
    return go;
  }

  function leaf(node, name) {
    var c = changes[node.self];
    var d = el('details', 'leaf c-' + c[CHANGE]), s = el('summary');
    s.title = fullPath(c);
    s.appendChild(badge(c));
    s.appendChild(el('span', 'name', name || node.name));
    s.appendChild(el('span', 'kind', kindText(c)));
    s.appendChild(el('span', 'bytes', human(c[SIZE])));
    d.appendChild(s);
    onFirstOpen(d, function () { d.appendChild(detail(c)); });
    return d;
  }

  function dir(node, open) {
    var d = el('details', 'dir'), s = el('summary'), body = el('div', 'kids');
    s.appendChild(el('span', 'name', node.parent ? node.name + '/' : node.name));
    if (node.self >= 0 && visible(node.self)) s.appendChild(badge(changes[node.self]));
    s.appendChild(el('span', 'count', plural(node.vn, 'change')));
    s.appendChild(el('span', 'bytes', human(node.vb)));
    d.appendChild(s);
    d.appendChild(body);
    var render = onFirstOpen(d, function () {
      if (node.self >= 0 && visible(node.self)) body.appendChild(leaf(node, '. (this directory)'));
      page(node, body, 0);
    });
    if (open || (node.vn <= AUTO_OPEN && node.vn <= budget)) {
      if (!open) budget -= node.vn;
      d.open = true;
      render();
    }
    return d;
  }

  function entry(node) { return node.kids ? dir(node, false) : leaf(node, null); }

  /* PAGE more visible entries of node from index from, then a button. */
  function page(node, body, from) {
    var order = node.order || [], shown = 0, i = from;
    for (; i < order.length && shown < PAGE; i++) {
      if (order[i].vn === 0) continue;
      body.appendChild(entry(order[i]));
      shown++;
    }
    var rest = 0;
    for (var j = i; j < order.length; j++) if (order[j].vn > 0) rest++;
    if (rest > 0) {
      var more = el('button', 'more', 'Show ' + Math.min(rest, PAGE).toLocaleString('en') + ' more of ' + rest.toLocaleString('en'));
      more.type = 'button';
      more.addEventListener('click', function () { more.remove(); budget = BUDGET; page(node, body, i); });
      body.appendChild(more);
    }
  }

  /* ---- controls ---- */
  var controls = el('div', 'controls'), list = el('div', 'tree'), shown = el('span', 'shown');
  controls.setAttribute('role', 'search');
  KINDS.forEach(function (k) {
    var label = el('label'), box = el('input');
    box.type = 'checkbox';
    box.checked = true;
    box.name = k;
    box.disabled = counts[k] === 0;
    box.addEventListener('change', function () { enabled[k] = box.checked; refresh(); });
    label.appendChild(box);
    label.appendChild(document.createTextNode(' '));
    label.appendChild(badge([0, '', k]));
    label.appendChild(document.createTextNode(counts[k].toLocaleString('en')));
    controls.appendChild(label);
  });
  var search = el('input');
  search.type = 'search';
  search.placeholder = 'Search paths';
  search.setAttribute('aria-label', 'Search paths');
  var timer = 0;
  search.addEventListener('input', function () {
    clearTimeout(timer);
    timer = setTimeout(function () { query = search.value.toLowerCase(); refresh(); }, 150);
  });
  controls.appendChild(search);
  var collapse = el('button', null, 'Collapse all');
  collapse.type = 'button';
  collapse.addEventListener('click', function () {
    list.querySelectorAll('details[open]').forEach(function (d) { d.open = false; });
  });
  controls.appendChild(collapse);
  controls.appendChild(shown);
  app.appendChild(controls);
  app.appendChild(list);

  function refresh() {
    var start = performance.now();
    recount();
    budget = BUDGET;
    shown.textContent = 'Showing ' + shownTotal.toLocaleString('en') + ' of ' + plural(changes.length, 'change');
    list.textContent = '';
    roots.forEach(function (r) { if (r.vn > 0) list.appendChild(dir(r, true)); });
    if (shownTotal === 0) list.appendChild(el('p', 'empty', changes.length ? 'No change matches.' : 'No entry differs.'));
    /* For tests and the bench: how long the last rendering took. */
    document.documentElement.setAttribute('data-render-ms', String(Math.round(performance.now() - start)));
  }

  refresh();
  document.documentElement.setAttribute('data-rendered-at-ms', String(Math.round(performance.now())));
})();
