// Lattice dashboard: reads the query API of the instance that served this page (any instance answers for
// every key) and draws the service graph, a service's golden signals, the denied panel and the live flows.
// Plain DOM + SVG, no library; every element the browser test reads carries a data-* attribute.
'use strict';

(function () {
  const SVG = 'http://www.w3.org/2000/svg';
  const REFRESH_MS = 5000;      // graph, signals and denied panel
  const MAX_FLOWS = 500;        // rows kept in the live table (oldest dropped)
  const REPLAY = 300;           // flows replayed from the instance's recent buffer when (re)connecting

  const state = {
    config: { policyUrl: 'http://127.0.0.1:7080', windows: ['10s', '1m'] },
    graph: null,
    service: null,
    // latest denied flow per "source|destination|policy": the explain link needs its identity and request
    deniedSamples: new Map(),
    flowsSeen: 0,
    refreshing: false,
  };

  const $ = (id) => document.getElementById(id);

  function el(name, attrs, text) {
    const e = document.createElement(name);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) e.setAttribute(k, v);
    }
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function svg(name, attrs, text) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function fmt(n, digits) {
    if (n === undefined || n === null || Number.isNaN(n)) return '–';
    return Number(n).toFixed(digits === undefined ? 1 : digits);
  }

  // ---------------------------------------------------------------- policy links

  // A flow names its deciding policy as Kind/namespace/name (the generator) or namespace/name (the data
  // plane's authorization engine, which only decides by AuthorizationPolicy).
  function policyRef(policy) {
    const parts = String(policy).split('/');
    if (parts.length === 3) return { kind: parts[0], namespace: parts[1], name: parts[2] };
    if (parts.length === 2) return { kind: 'AuthorizationPolicy', namespace: parts[0], name: parts[1] };
    return null;
  }

  function policyHref(policy) {
    const ref = policyRef(policy);
    if (!ref) return null;
    return state.config.policyUrl + '/v1/resources/' + [ref.kind, ref.namespace, ref.name]
      .map(encodeURIComponent).join('/') + '?output=yaml';
  }

  // explain needs the caller's SPIFFE ID and the destination host, which only a flow record carries
  function explainHref(flow) {
    if (!flow || !flow.source || !flow.source.spiffeId || !flow.l7 || !flow.l7.host) return null;
    const q = new URLSearchParams({ from: flow.source.spiffeId, to: flow.l7.host });
    if (flow.l7.method) q.set('method', flow.l7.method);
    if (flow.l7.path) q.set('path', flow.l7.path);
    if (flow.destination && flow.destination.port) q.set('port', String(flow.destination.port));
    return state.config.policyUrl + '/v1/explain?' + q.toString();
  }

  function policyLink(policy) {
    const href = policyHref(policy);
    if (!href) return el('span', { class: 'policy' }, policy);
    return el('a', { class: 'policy-link', href: href, target: '_blank', rel: 'noopener', 'data-policy': policy },
      policy);
  }

  // ---------------------------------------------------------------- graph

  function query() {
    const q = new URLSearchParams({ window: $('window').value, range: $('range').value });
    const ns = $('graph-namespace').value.trim();
    if (ns) q.set('namespace', ns);
    return q;
  }

  async function getJson(url) {
    const r = await fetch(url, { headers: { accept: 'application/json' } });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) throw new Error(r.status + ' ' + (body.error || (body.errors && JSON.stringify(body.errors)) || ''));
    return body;
  }

  function edgeClass(e) {
    // thresholds as Kiali's: under 0.1 % healthy, under 5 % degraded, else failing
    const ratio = e.errorRatio || 0;
    return ratio >= 0.05 ? 'failing' : ratio >= 0.001 ? 'degraded' : 'healthy';
  }

  // Layered layout: callers left, callees right (longest path from a node nobody calls; cycles cut).
  function layout(nodes, edges) {
    const layer = new Map(nodes.map((n) => [n.id, 0]));
    for (let i = 0; i < nodes.length; i++) {
      let changed = false;
      for (const e of edges) {
        if (e.source === e.destination) continue;
        const want = layer.get(e.source) + 1;
        if (want > layer.get(e.destination) && want < nodes.length) {
          layer.set(e.destination, want);
          changed = true;
        }
      }
      if (!changed) break;
    }
    // a caller nobody calls sits just left of its nearest callee, not in the first column
    const callers = new Set(edges.filter((e) => e.source !== e.destination).map((e) => e.destination));
    for (const n of nodes) {
      if (callers.has(n.id)) continue;
      const next = edges.filter((e) => e.source === n.id && e.destination !== n.id).map((e) => layer.get(e.destination));
      if (next.length) layer.set(n.id, Math.max(0, Math.min(...next) - 1));
    }
    const depth = Math.max(0, ...layer.values());
    const columns = [];
    for (let l = 0; l <= depth; l++) columns.push([]);
    for (const n of nodes) columns[layer.get(n.id)].push(n.id);
    const pos = new Map();
    const colWidth = 260, rowHeight = 100, left = 110, top = 50;
    let maxRows = 1;
    // order each column by where its callers are (barycenter), left to right, to cut crossings
    columns.forEach((ids, l) => {
      const rank = (id) => {
        const ys = edges.filter((e) => e.destination === id && pos.has(e.source)).map((e) => pos.get(e.source).y);
        return ys.length ? ys.reduce((a, b) => a + b, 0) / ys.length : Infinity;
      };
      const ranked = ids.map((id) => ({ id, r: rank(id) }))
        .sort((a, b) => (a.r === b.r ? a.id.localeCompare(b.id) : a.r - b.r));
      maxRows = Math.max(maxRows, ids.length);
      ranked.forEach((n, i) => pos.set(n.id, { x: left + l * colWidth, y: top + i * rowHeight }));
    });
    return { pos, width: left * 2 + depth * colWidth, height: top * 2 + (maxRows - 1) * rowHeight };
  }

  function renderGraph(g) {
    const edgesG = $('graph-edges'), nodesG = $('graph-nodes');
    edgesG.replaceChildren();
    nodesG.replaceChildren();
    $('graph-empty').hidden = g.edges.length > 0;
    const { pos, width, height } = layout(g.nodes, g.edges);
    const graph = $('graph');
    // drawn at its natural size (a two-node graph must not blow up to the panel's width), shrunk to fit
    const w = Math.max(width, 400), h = Math.max(height, 120);
    graph.setAttribute('viewBox', '0 0 ' + w + ' ' + h);
    graph.setAttribute('width', String(w));
    graph.setAttribute('height', String(h));
    graph.setAttribute('data-nodes', String(g.nodes.length));
    graph.setAttribute('data-edges', String(g.edges.length));
    const R = 22;
    const pairs = new Set(g.edges.map((e) => e.source + '|' + e.destination));
    for (const e of g.edges) {
      const a = pos.get(e.source), b = pos.get(e.destination);
      if (!a || !b) continue;
      const classes = ['edge', edgeClass(e)];
      if (e.deniedEdge) classes.push('denied');
      if (e.fullyDenied) classes.push('fully-denied');
      if (e.plaintext) classes.push('plaintext');
      const group = svg('g', {
        class: classes.join(' '), 'data-source': e.source, 'data-destination': e.destination,
        'data-requests': String(e.requests), 'data-denied': String(e.denied), 'data-rps': String(e.rps), 'data-p99-ms': String(e.p99Ms),
        'data-error-ratio': String(e.errorRatio),
      });
      // bend a little so that A→B and B→A do not overlap; shorten to the node circles
      const dx = b.x - a.x, dy = b.y - a.y, len = Math.max(1, Math.hypot(dx, dy));
      const ux = dx / len, uy = dy / len;
      const bend = pairs.has(e.destination + '|' + e.source) ? 18 : 0;
      const sx = a.x + ux * R, sy = a.y + uy * R, tx = b.x - ux * (R + 2), ty = b.y - uy * (R + 2);
      const mx = (sx + tx) / 2 - uy * bend, my = (sy + ty) / 2 + ux * bend;
      group.appendChild(svg('path', { d: `M ${sx} ${sy} Q ${mx} ${my} ${tx} ${ty}`, 'marker-end': 'url(#arrow)' }));
      let label = fmt(e.rps, 2) + ' req/s · p99 ' + fmt(e.p99Ms, 1) + ' ms';
      if (e.deniedEdge) label += e.fullyDenied ? ' · denied' : ' · ' + e.denied + ' denied';
      if (e.plaintext) label += ' · ⚠ plaintext';
      group.appendChild(svg('text', { x: mx, y: my - 6, class: 'edge-label', 'text-anchor': 'middle' }, label));
      group.appendChild(svg('title', {}, `${e.source} → ${e.destination}\n${e.requests} requests, ` +
        `errors ${fmt(100 * e.errorRatio, 2)} %, p50/p90/p99 ${fmt(e.p50Ms)}/${fmt(e.p90Ms)}/${fmt(e.p99Ms)} ms, ` +
        `mTLS ${fmt(100 * e.mtlsShare, 0)} %`));
      edgesG.appendChild(group);
    }
    for (const n of g.nodes) {
      const p = pos.get(n.id);
      const classes = ['node', 'kind-' + n.kind];
      if (n.service) classes.push('service');
      if (state.service === n.id) classes.push('selected');
      const group = svg('g', { class: classes.join(' '), 'data-node': n.id, 'data-kind': n.kind,
        transform: `translate(${p.x} ${p.y})` });
      group.appendChild(svg('circle', { r: R }));
      group.appendChild(svg('text', { y: R + 15, 'text-anchor': 'middle', class: 'node-label' }, n.id));
      if (n.signals) {
        group.appendChild(svg('text', { y: 4, 'text-anchor': 'middle', class: 'node-rps' }, fmt(n.signals.rps, 1)));
        group.appendChild(svg('title', {}, `${n.id}: ${fmt(n.signals.rps, 2)} req/s, errors ` +
          `${fmt(100 * n.signals.errorRatio, 2)} %, p99 ${fmt(n.signals.p99Ms)} ms`));
        group.addEventListener('click', () => selectService(n.id));
      }
      nodesG.appendChild(group);
    }
  }

  // ---------------------------------------------------------------- denied panel

  function renderDenied(g) {
    const rows = new Map();
    for (const e of g.edges) {
      for (const [policy, count] of Object.entries(e.deniedBy || {})) {
        rows.set(e.source + '|' + e.destination + '|' + policy,
          { source: e.source, destination: e.destination, policy: policy, count: count });
      }
    }
    const body = $('denied').querySelector('tbody');
    body.replaceChildren();
    for (const key of [...rows.keys()].sort()) {
      const r = rows.get(key);
      const tr = el('tr', { class: 'denial', 'data-source': r.source, 'data-destination': r.destination,
        'data-policy': r.policy });
      tr.appendChild(el('td', {}, r.source));
      tr.appendChild(el('td', {}, r.destination));
      tr.appendChild(el('td', { class: 'num' }, String(r.count)));
      const td = el('td');
      td.appendChild(policyLink(r.policy));
      tr.appendChild(td);
      const explain = el('td');
      const href = explainHref(state.deniedSamples.get(key));
      if (href) {
        explain.appendChild(el('a', { class: 'explain-link', href: href, target: '_blank', rel: 'noopener' }, 'explain'));
      } else {
        explain.appendChild(el('span', { class: 'muted', title: 'explain needs a live denied flow of this edge' }, '–'));
      }
      tr.appendChild(explain);
      body.appendChild(tr);
    }
    $('denied-empty').hidden = rows.size > 0;
  }

  // ---------------------------------------------------------------- golden signals

  function selectService(id) {
    state.service = id;
    if ($('service').value !== id) $('service').value = id;
    for (const n of document.querySelectorAll('#graph-nodes .node')) {
      n.classList.toggle('selected', n.getAttribute('data-node') === id);
    }
    refreshSignals();
  }

  function renderServiceChoices(g) {
    const select = $('service');
    // mesh workloads first, then external hosts
    const services = g.nodes.filter((n) => n.service)
      .sort((a, b) => (a.kind === b.kind ? a.id.localeCompare(b.id) : a.kind === 'workload' ? -1 : 1)).map((n) => n.id);
    const current = state.service && services.includes(state.service) ? state.service : services[0] || null;
    select.replaceChildren(...services.map((s) => el('option', { value: s }, s)));
    state.service = current;
    if (current) select.value = current;
  }

  function chart(title, points, from, to, value, unit) {
    const w = 320, h = 90, pad = 4;
    const box = el('figure', { class: 'chart', 'data-chart': title });
    box.appendChild(el('figcaption', {}, title));
    const s = svg('svg', { viewBox: `0 0 ${w} ${h}`, class: 'spark' });
    const values = points.map(value);
    const max = Math.max(1e-9, ...values);
    const x = (t) => pad + (w - 2 * pad) * (to > from ? (t - from) / (to - from) : 0);
    const y = (v) => h - pad - (h - 2 * pad) * (v / max);
    if (points.length > 0) {
      const d = points.map((p, i) => (i ? 'L ' : 'M ') + x(p.start).toFixed(1) + ' ' + y(value(p)).toFixed(1)).join(' ');
      s.appendChild(svg('path', { d: d, class: 'line' }));
      for (const p of points) s.appendChild(svg('circle', { cx: x(p.start), cy: y(value(p)), r: 2, class: 'dot' }));
    }
    box.appendChild(s);
    box.appendChild(el('div', { class: 'chart-max' }, 'max ' + fmt(max === 1e-9 ? 0 : max, 2) + ' ' + unit));
    return box;
  }

  async function refreshSignals() {
    const id = state.service;
    const charts = $('charts');
    if (!id) {
      charts.replaceChildren(el('div', { class: 'empty' }, 'no service in this range'));
      $('signals-summary').textContent = '';
      return;
    }
    const [ns, name] = id.split('/');
    // the charts use the finest window, whatever the graph's, so that a 5m range has points to draw
    const q = new URLSearchParams({ window: state.config.windows[0], range: $('range').value });
    try {
      const s = await getJson(`/v1/services/${encodeURIComponent(ns)}/${encodeURIComponent(name)}/signals?` + q);
      if (state.service !== id) return;
      const t = s.total;
      const summary = $('signals-summary');
      summary.setAttribute('data-service', id);
      summary.setAttribute('data-requests', String(t.requests));
      summary.setAttribute('data-denied', String(t.denied));
      summary.textContent = `${id}: ${fmt(t.rps, 2)} req/s, errors ${fmt(100 * t.errorRatio, 2)} % ` +
        `(4xx ${t.errors4xx}, 5xx ${t.errors5xx}, denied ${t.denied}, rate-limited ${t.rateLimited}), ` +
        `p50/p90/p99 ${fmt(t.p50Ms)}/${fmt(t.p90Ms)}/${fmt(t.p99Ms)} ms, mTLS ${fmt(100 * t.mtlsShare, 0)} %`;
      charts.replaceChildren(
        chart('requests/s', s.series, s.from, s.to, (p) => p.rps, 'req/s'),
        chart('error ratio', s.series, s.from, s.to, (p) => 100 * p.errorRatio, '%'),
        chart('p99 latency', s.series, s.from, s.to, (p) => p.p99Ms, 'ms'));
    } catch (e) {
      $('signals-summary').textContent = 'signals unavailable: ' + e.message;
    }
  }

  // ---------------------------------------------------------------- periodic refresh

  async function refresh() {
    if (state.refreshing) return;
    state.refreshing = true;
    const status = $('graph-status');
    try {
      const g = await getJson('/v1/graph?' + query());
      state.graph = g;
      renderGraph(g);
      renderServiceChoices(g);
      renderDenied(g);
      status.textContent = 'updated ' + new Date().toLocaleTimeString();
      status.className = 'status ok';
      document.body.setAttribute('data-graph-loaded', 'true');
      await refreshSignals();
    } catch (e) {
      // 503 while the pipeline rebalances or restores: keep the last picture, try again on the next tick
      status.textContent = 'graph unavailable: ' + e.message;
      status.className = 'status error';
    } finally {
      state.refreshing = false;
    }
  }

  // ---------------------------------------------------------------- live flows

  function statusText(f) {
    if (!f.l7) return 'tcp';
    if (f.l7.status !== undefined) return String(f.l7.status);
    if (f.l7.grpcStatus !== undefined) return 'grpc ' + f.l7.grpcStatus;
    return '–';
  }

  function flowRow(f) {
    const tr = el('tr', {
      class: 'flow' + (f.denied ? ' denied' : '') + (f.verdict === 'ERROR' ? ' error' : ''),
      'data-source': f.sourceNode, 'data-destination': f.destinationNode, 'data-verdict': f.verdict,
      'data-status': statusText(f), 'data-denied': String(!!f.denied),
    });
    tr.appendChild(el('td', { class: 'time' }, f.time.replace('T', ' ').replace('Z', '')));
    tr.appendChild(el('td', {}, f.sourceNode));
    tr.appendChild(el('td', {}, f.destinationNode));
    tr.appendChild(el('td', {}, f.direction === 'OUTBOUND' ? 'to-proxy' : 'from-proxy'));
    tr.appendChild(el('td', { class: 'request' }, f.l7 ? `${f.l7.method || ''} ${f.l7.path || ''}` : 'tcp'));
    tr.appendChild(el('td', {}, statusText(f)));
    tr.appendChild(el('td', { class: 'verdict ' + f.verdict.toLowerCase() }, f.verdict));
    const policy = el('td');
    if (f.policy) policy.appendChild(policyLink(f.policy));
    tr.appendChild(policy);
    tr.appendChild(el('td', { class: 'num' }, fmt(f.latencyMs, 1) + ' ms'));
    tr.appendChild(el('td', {}, f.mtls ? 'mTLS' : 'plain'));
    tr.appendChild(el('td', {}, (f.responseFlags || []).join(',')));
    return tr;
  }

  function filters() {
    return {
      workload: $('filter-workload').value.trim(),
      verdict: $('filter-verdict').value,
      status: $('filter-status').value.trim().toLowerCase(),
      denied: $('filter-denied').checked,
    };
  }

  // status: an exact code (503), a class (5xx) or tcp
  function statusMatches(want, have) {
    if (!want) return true;
    if (/^[1-5]xx$/.test(want)) return /^\d{3}$/.test(have) && have[0] === want[0];
    return want === have;
  }

  function keeps(tr, f) {
    const src = tr.getAttribute('data-source'), dst = tr.getAttribute('data-destination');
    return (!f.workload || src.includes(f.workload) || dst.includes(f.workload))
      && (!f.verdict || tr.getAttribute('data-verdict') === f.verdict)
      && statusMatches(f.status, tr.getAttribute('data-status'))
      && (!f.denied || tr.getAttribute('data-denied') === 'true');
  }

  function applyFilter() {
    const f = filters();
    const rows = $('flows').querySelectorAll('tbody tr.flow');
    let shown = 0;
    for (const tr of rows) {
      tr.hidden = !keeps(tr, f);
      if (!tr.hidden) shown++;
    }
    const count = $('flow-count');
    count.textContent = `showing ${shown} of ${rows.length}`;
    count.setAttribute('data-shown', String(shown));
    count.setAttribute('data-total', String(rows.length));
  }

  function addFlow(f) {
    state.flowsSeen++;
    if (f.denied && f.policy) {
      const key = f.sourceNode + '|' + f.destinationNode + '|' + f.policy;
      const first = !state.deniedSamples.has(key);
      state.deniedSamples.set(key, f);
      if (first && state.graph) renderDenied(state.graph);
    }
    const body = $('flows').querySelector('tbody');
    const tr = flowRow(f);
    tr.hidden = !keeps(tr, filters());
    body.insertBefore(tr, body.firstChild);
    while (body.children.length > MAX_FLOWS) body.removeChild(body.lastChild);
  }

  let pendingCount = false;
  function scheduleCount() {
    // recount at most every 50 ms however many flows arrive
    if (pendingCount) return;
    pendingCount = true;
    setTimeout(() => { pendingCount = false; applyFilter(); }, 50);
  }

  function follow() {
    const status = $('flows-status');
    let replay = REPLAY;
    let source = null;
    const connect = () => {
      source = new EventSource('/v1/flows?follow=true&last=' + replay);
      source.addEventListener('open', () => {
        status.textContent = 'live flows: connected';
        status.className = 'status ok';
        // after a reconnect, do not replay what the table already has
        replay = 0;
      });
      source.addEventListener('flow', (ev) => {
        try {
          addFlow(JSON.parse(ev.data));
          scheduleCount();
        } catch (e) {
          console.warn('unreadable flow event', e);
        }
      });
      source.addEventListener('error', () => {
        // reconnect ourselves rather than let the browser re-open the same URL: that would replay again,
        // and a refused stream (503: too many followers) is not retried by the browser at all
        source.close();
        status.textContent = 'live flows: reconnecting…';
        status.className = 'status error';
        setTimeout(connect, 3000);
      });
    };
    connect();
  }

  // ---------------------------------------------------------------- start

  async function start() {
    try {
      state.config = await getJson('config.json');
    } catch (e) {
      console.warn('dashboard config unavailable, using defaults', e);
    }
    const win = $('window');
    win.replaceChildren(...state.config.windows.map((w) => el('option', { value: w }, w)));
    win.value = state.config.windows.includes('1m') ? '1m' : state.config.windows[0];
    for (const id of ['window', 'range']) $(id).addEventListener('change', refresh);
    $('graph-namespace').addEventListener('change', refresh);
    $('service').addEventListener('change', () => selectService($('service').value));
    for (const id of ['filter-workload', 'filter-status']) $(id).addEventListener('input', applyFilter);
    for (const id of ['filter-verdict', 'filter-denied']) $(id).addEventListener('change', applyFilter);
    $('flow-filter').addEventListener('submit', (ev) => ev.preventDefault());
    $('filter-clear').addEventListener('click', () => { $('flow-filter').reset(); applyFilter(); });
    follow();
    await refresh();
    setInterval(refresh, REFRESH_MS);
  }

  start();
})();
