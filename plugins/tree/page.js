"use strict";
// mk2ds tree page: renders the embedded tree document. Every value from the log is attacker-controlled, so
// it only ever reaches the page through textContent / attribute setters, never as markup.
(function () {
  const data = JSON.parse(document.getElementById("tree-data").textContent);
  const byId = new Map();
  const itemById = new Map();
  const outgoing = new Map();
  const incoming = new Map();
  const haystack = new Map();
  const EVT_ORDER = ["file", "reg", "net", "win", "ps"];
  let selected = null;

  function push(map, key, value) {
    if (!map.has(key)) map.set(key, []);
    map.get(key).push(value);
  }

  // Control characters and bidi overrides are shown as escapes ("invoice\u202egpj.exe" must not pass for a .jpg).
  const INVISIBLE = /[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

  function visible(text) {
    return text.replace(INVISIBLE, function (char) {
      const code = char.charCodeAt(0);
      return code < 0x100 ? "\\x" + code.toString(16).padStart(2, "0") : "\\u" + code.toString(16).padStart(4, "0");
    });
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = visible(String(text));
    return node;
  }

  function clock(time) {
    if (!time || time.indexOf("T") < 0) return "?";
    return time.split("T")[1].slice(0, 12);
  }

  function seconds(value, sign) {
    if (value === null || value === undefined) return "-";
    const text = value.toFixed(3) + "s";
    return sign && value >= 0 ? "+" + text : text;
  }

  function activityText(process) {
    const byEvt = {};
    Object.keys(process.activity.counts).forEach(function (kind) {
      const evt = kind.split("/")[0];
      byEvt[evt] = (byEvt[evt] || 0) + process.activity.counts[kind];
    });
    return Object.keys(byEvt)
      .sort(function (a, b) {
        const ia = EVT_ORDER.indexOf(a) < 0 ? 99 : EVT_ORDER.indexOf(a);
        const ib = EVT_ORDER.indexOf(b) < 0 ? 99 : EVT_ORDER.indexOf(b);
        return ia - ib || (a < b ? -1 : 1);
      })
      .map(function (evt) { return evt + " " + byEvt[evt]; })
      .join(" · ");
  }

  function eventSummary(event) {
    const keys = ["path", "dstPath", "entry", "valStr", "valNum", "srcIP", "srcPort", "dstIP", "dstPort", "dstServ",
      "port", "serv", "url", "winTitle", "tpsPath", "api", "shCmd", "clipData", "write", "recv", "send"];
    return keys.filter(function (key) { return event[key] !== undefined && event[key] !== null; })
      .map(function (key) { return key + "=" + event[key]; }).join("  ");
  }

  data.processes.forEach(function (process) {
    byId.set(process.id, process);
    const parts = [process.name, process.path, process.cmd, process.guid, process.sha256, process.user, process.id];
    process.activity.events.forEach(function (event) {
      ["path", "dstPath", "url", "valStr", "winTitle", "dstIP"].forEach(function (key) {
        if (event[key] !== undefined) parts.push(String(event[key]));
      });
    });
    haystack.set(process.id, parts.filter(Boolean).join("\n").toLowerCase());
  });
  data.relations.forEach(function (relation) {
    push(outgoing, relation.from, relation);
    push(incoming, relation.to, relation);
  });

  function jump(id, text) {
    const link = el("a", "jump", text);
    link.href = "#";
    link.addEventListener("click", function (event) {
      event.preventDefault();
      event.stopPropagation();
      select(id, true);
    });
    return link;
  }

  function renderItem(process) {
    const item = el("li", "node");
    item.setAttribute("role", "treeitem");
    item.dataset.id = process.id;
    const row = el("div", "row" + (process.observed ? "" : " placeholder") + (process.role === "focus" ? " focus" : ""));
    const toggle = el("button", "toggle", process.children.length ? "▸" : "·");
    toggle.type = "button";
    toggle.disabled = process.children.length === 0;
    toggle.setAttribute("aria-label", "expand " + process.name);
    row.appendChild(toggle);
    row.appendChild(el("span", "name", (process.observed ? "" : "? ") + process.name));
    const meta = process.observed
      ? clock(process.start) + "  " + seconds(process.offset, true) + "  " + (process.lifetime === null ? "running" : (process.lifetime < 0 ? "⚠ " : "") + seconds(process.lifetime))
      : "not observed (" + process.placeholder + ")";
    row.appendChild(el("span", "meta", meta));
    if (process.lifetime !== null && process.lifetime < 0) {
      row.appendChild(el("span", "badge stop-before-start", "stops before it starts"));
    }
    const activity = activityText(process);
    if (activity) row.appendChild(el("span", "activity", activity));
    (outgoing.get(process.id) || []).forEach(function (relation) {
      const badge = el("span", "badge rel-" + relation.kind, "→ " + relation.kind + " " + byId.get(relation.to).name);
      badge.title = "evidence sn " + relation.evidence.join(", ");
      row.appendChild(badge);
    });
    (incoming.get(process.id) || []).forEach(function (relation) {
      const badge = el("span", "badge rel-" + relation.kind, "← " + relation.kind + " " + byId.get(relation.from).name);
      badge.title = "evidence sn " + relation.evidence.join(", ");
      row.appendChild(badge);
    });
    if (process.hidden_children) row.appendChild(el("span", "hidden-note", process.hidden_children + " child processes not in this view"));
    item.appendChild(row);
    const children = el("ul", "children");
    children.setAttribute("role", "group");
    children.hidden = true;
    item.appendChild(children);
    toggle.addEventListener("click", function (event) {
      event.stopPropagation();
      setExpanded(item, children.hidden);
    });
    row.addEventListener("click", function () { select(process.id, false); });
    itemById.set(process.id, item);
    return item;
  }

  function setExpanded(item, open) {
    const process = byId.get(item.dataset.id);
    const children = item.lastChild;
    if (!process.children.length) return;
    if (open && !item.dataset.built) {
      process.children.forEach(function (childId) { children.appendChild(renderItem(byId.get(childId))); });
      item.dataset.built = "1";
    }
    children.hidden = !open;
    item.setAttribute("aria-expanded", String(open));
    item.firstChild.firstChild.textContent = open ? "▾" : "▸";
  }

  function reveal(id) {
    const chain = [];
    let current = byId.get(id);
    while (current) {
      chain.unshift(current.id);
      current = current.parent && byId.has(current.parent) ? byId.get(current.parent) : null;
    }
    for (let index = 0; index < chain.length - 1; index += 1) setExpanded(itemById.get(chain[index]), true);
    return itemById.get(id);
  }

  function select(id, scroll) {
    const item = reveal(id);
    if (selected) selected.classList.remove("selected");
    selected = item.firstChild;
    selected.classList.add("selected");
    if (scroll) item.scrollIntoView({ block: "center" });
    showDetails(byId.get(id));
  }

  function factList(pairs) {
    const list = el("dl");
    pairs.forEach(function (pair) {
      if (pair[1] === null || pair[1] === undefined || pair[1] === "") return;
      list.appendChild(el("dt", null, pair[0]));
      const value = el("dd");
      if (pair[1] instanceof Node) value.appendChild(pair[1]); else value.textContent = visible(String(pair[1]));
      list.appendChild(value);
    });
    return list;
  }

  function table(headers, rows) {
    const result = el("table");
    const head = el("tr");
    headers.forEach(function (header) { head.appendChild(el("th", null, header)); });
    result.appendChild(el("thead")).appendChild(head);
    const body = el("tbody");
    rows.forEach(function (cells) {
      const row = el("tr");
      cells.forEach(function (cell) {
        const td = el("td");
        if (cell instanceof Node) td.appendChild(cell); else td.textContent = cell === null || cell === undefined ? "" : visible(String(cell));
        row.appendChild(td);
      });
      body.appendChild(row);
    });
    result.appendChild(body);
    return result;
  }

  function showDetails(process) {
    const panel = document.getElementById("details");
    panel.textContent = "";
    panel.appendChild(el("h2", null, process.name));
    panel.appendChild(factList([
      ["observed", process.observed ? "yes" : "no — " + process.placeholder],
      ["host", process.host], ["GUID", process.guid], ["path", process.path], ["command line", process.cmd],
      ["sha256", process.sha256], ["signer", process.signer], ["user", process.user], ["pid", process.pid],
      ["start", process.start === null ? null : process.start + " (sn " + process.start_sn + ")"],
      ["stop", process.stop === null ? null : process.stop + " (sn " + process.stop_sn + ")"],
      ["lifetime", process.observed ? (process.lifetime === null ? "running at end of log" : seconds(process.lifetime) + (process.lifetime < 0 ? " (negative: the stop is logged before the start)" : "")) : null],
      ["offset from parent", process.offset === null ? null : seconds(process.offset, true)],
      ["parent", process.parent && byId.has(process.parent) ? jump(process.parent, byId.get(process.parent).name) : process.parent_path],
      ["parent link", process.parent_link], ["children", process.child_count + " (" + process.descendant_count + " descendants)"],
    ]));
    const relations = (outgoing.get(process.id) || []).concat(incoming.get(process.id) || []);
    if (relations.length) {
      panel.appendChild(el("h2", null, "Relations"));
      panel.appendChild(table(["kind", "other process", "evidence (sn)"], relations.map(function (relation) {
        const out = relation.from === process.id;
        const other = out ? relation.to : relation.from;
        return [(out ? "→ " : "← ") + relation.kind, jump(other, byId.get(other).name), relation.evidence.join(", ")];
      })));
    }
    const counts = Object.keys(process.activity.counts).map(function (kind) { return [kind, process.activity.counts[kind]]; });
    panel.appendChild(el("h2", null, "Activity (" + process.activity.total + ")"));
    if (counts.length) panel.appendChild(table(["kind", "count"], counts));
    if (process.activity.events.length) {
      panel.appendChild(table(["sn", "time", "offset", "kind", "what"], process.activity.events.map(function (event) {
        return [event.sn, clock(event.time), seconds(event.offset, true), event.kind, eventSummary(event)];
      })));
    }
    const notes = [];
    if (process.activity.omitted) notes.push(process.activity.omitted + " more events counted but not listed (--max-events)");
    if (process.activity.open_skipped) notes.push(process.activity.open_skipped + " 'open' events left out (--all)");
    if (process.activity.outside_window) notes.push(process.activity.outside_window + " events outside the time window");
    notes.forEach(function (note) { panel.appendChild(el("p", "hint", note)); });
    if (process.peers.length) {
      panel.appendChild(el("h2", null, "Network peers"));
      panel.appendChild(table(["direction", "address", "port", "service", "connections", "recv", "send"], process.peers.map(function (peer) {
        return [peer.direction, peer.ip, peer.port, peer.service, peer.connections, peer.recv, peer.send];
      })));
      if (process.peers_omitted) panel.appendChild(el("p", "hint", process.peers_omitted + " more peers not listed"));
    }
  }

  function search(query) {
    document.querySelectorAll(".row.match").forEach(function (row) { row.classList.remove("match"); });
    const count = document.getElementById("search-count");
    const wanted = query.trim().toLowerCase();
    if (!wanted) { count.textContent = ""; return; }
    const matches = data.processes.filter(function (process) { return haystack.get(process.id).indexOf(wanted) >= 0; });
    matches.slice(0, 500).forEach(function (process) { reveal(process.id).firstChild.classList.add("match"); });
    count.textContent = matches.length === 1 ? "1 process matches" : matches.length + " processes match";
    if (matches.length) select(matches[0].id, true);
  }

  function renderTree() {
    const tree = document.getElementById("tree");
    const hosts = new Map();
    data.roots.forEach(function (rootId) { push(hosts, byId.get(rootId).host, rootId); });
    hosts.forEach(function (roots, host) {
      const hostItem = el("li", "host");
      hostItem.appendChild(el("div", "host-label", host || "(no host name)"));
      const list = el("ul");
      roots.forEach(function (rootId) { list.appendChild(renderItem(byId.get(rootId))); });
      hostItem.appendChild(list);
      tree.appendChild(hostItem);
    });
    data.roots.forEach(function (rootId) { setExpanded(itemById.get(rootId), true); });
    data.processes.forEach(function (process) { if (process.role === "focus") reveal(process.id); });
  }

  function renderRelations() {
    const body = document.querySelector("#relations tbody");
    data.relations.forEach(function (relation) {
      const details = Object.keys(relation.details).map(function (key) {
        const value = relation.details[key];
        return key + "=" + (Array.isArray(value) ? value.join(",") : value);
      }).join("  ");
      const row = el("tr");
      row.className = "rel-" + relation.kind;
      [el("span", null, relation.kind), jump(relation.from, byId.get(relation.from).name), jump(relation.to, byId.get(relation.to).name),
        el("span", null, relation.evidence.join(", ") + (relation.evidence_count > relation.evidence.length ? " … (" + relation.evidence_count + ")" : "")),
        el("span", null, details)].forEach(function (cell) { row.appendChild(el("td")).appendChild(cell); });
      body.appendChild(row);
    });
    if (!data.relations.length) body.appendChild(el("tr")).appendChild(el("td", "hint", "no relations in this view"));
  }

  const stats = data.stats;
  document.getElementById("summary").textContent = visible(stats.shown + " of " + stats.processes + " processes shown (" +
    stats.observed + " observed, " + stats.placeholders + " not observed) · " + stats.records + " records · hosts: " +
    (stats.hosts.join(", ") || "-") + " · relations: " + Object.keys(stats.relations).map(function (kind) {
      return kind + " " + stats.relations[kind];
    }).join(", ") + (stats.stops_before_start ? " · " + stats.stops_before_start + " processes stop before they start" : ""));
  renderTree();
  renderRelations();
  document.getElementById("search").addEventListener("input", function (event) { search(event.target.value); });
  document.getElementById("expand-all").addEventListener("click", function () {
    data.processes.forEach(function (process) { if (process.children.length) setExpanded(reveal(process.id), true); });
  });
  document.getElementById("collapse-all").addEventListener("click", function () {
    itemById.forEach(function (item) { setExpanded(item, false); });
  });
})();
