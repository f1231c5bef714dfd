"use strict";
// mk2ds report page: filters, sorting, search, details. The markup is made (and escaped) by mk2ds; this script
// only reads data- attributes and textContent, and sets hidden, classes and textContent: never markup.
(function () {
  const $ = function (selector, root) { return (root || document).querySelector(selector); };
  const $$ = function (selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); };

  // ------------------------------------------------------------------------------------------ findings filter
  const findings = $$("details.finding");
  const codeFilter = $("#code-filter");
  const sampleFilter = $("#sample-filter");
  const severityBoxes = $$("input[data-severity-filter]");

  function applyFindingFilter() {
    const severities = new Set(severityBoxes.filter(function (box) { return box.checked; }).map(function (box) { return box.dataset.severityFilter; }));
    const code = codeFilter ? codeFilter.value : "";
    const sample = sampleFilter ? sampleFilter.value : "*";
    let shown = 0;
    findings.forEach(function (finding) {
      const visible = severities.has(finding.dataset.severity) && (!code || finding.dataset.code === code) &&
        (sample === "*" || finding.dataset.subject === sample);
      finding.hidden = !visible;
      if (visible) shown += 1;
    });
    $$(".subject-group").forEach(function (group) {
      group.hidden = !$$("details.finding", group).some(function (finding) { return !finding.hidden; });
    });
    $$(".code-group").forEach(function (group) {
      const any = $$("details.finding", group).some(function (finding) { return !finding.hidden; });
      group.hidden = !any;
      const members = $("details.members", group);
      // A pattern's findings open as soon as the filter narrows down to a sample or a code.
      if (members && any && (sample !== "*" || code)) members.open = true;
    });
    const count = $("#finding-count");
    if (count) count.textContent = shown + " of " + findings.length + " shown";
  }

  function setFilters(severity, code, sample) {
    severityBoxes.forEach(function (box) { box.checked = !severity || box.dataset.severityFilter === severity; });
    if (codeFilter) codeFilter.value = code || "";
    if (sampleFilter) {
      const known = $$("option", sampleFilter).some(function (option) { return option.value === sample; });
      sampleFilter.value = sample && known ? sample : "*";
    }
    applyFindingFilter();
  }

  severityBoxes.forEach(function (box) { box.addEventListener("change", applyFindingFilter); });
  if (codeFilter) codeFilter.addEventListener("change", applyFindingFilter);
  if (sampleFilter) sampleFilter.addEventListener("change", applyFindingFilter);
  const reset = $("#reset-filters");
  if (reset) reset.addEventListener("click", function () { setFilters(null, "", "*"); });
  $$("a.count[data-only]").forEach(function (link) {
    link.addEventListener("click", function () { setFilters(link.dataset.only, "", "*"); });
  });

  // ------------------------------------------------------------------------------------------ samples table
  const table = $("#sample-table");
  const bodies = table ? $$("tbody.sample", table) : [];
  const search = $("#sample-search");

  function openSample(body, open) {
    const detail = $("tr.detail", body);
    if (!detail) return;
    detail.hidden = !open;
    body.classList.toggle("open", open);
  }

  bodies.forEach(function (body) {
    const row = $("tr.sample-row", body);
    row.addEventListener("click", function (event) {
      if (event.target.closest("button.copy, button.to-findings")) return;
      event.preventDefault();
      openSample(body, $("tr.detail", body).hidden);
    });
  });

  function applySearch() {
    const words = (search ? search.value : "").toLowerCase().split(/\s+/).filter(Boolean);
    let shown = 0;
    bodies.forEach(function (body) {
      const haystack = $("tr.sample-row", body).textContent.toLowerCase() + " " + body.dataset.sample.toLowerCase();
      const visible = words.every(function (word) { return haystack.indexOf(word) >= 0; });
      body.hidden = !visible;
      if (visible) shown += 1;
    });
    const count = $("#sample-count");
    if (count) count.textContent = shown + " of " + bodies.length + " shown";
  }
  if (search) search.addEventListener("input", applySearch);

  function sortValue(body, column, numeric) {
    const cell = $("tr.sample-row", body).children[column];
    const raw = cell ? cell.dataset.sort || "" : "";
    if (!numeric) return raw.toLowerCase();
    return raw === "" ? null : parseFloat(raw);
  }

  $$("button.sort").forEach(function (button) {
    button.addEventListener("click", function () {
      const column = parseInt(button.dataset.column, 10);
      const numeric = button.dataset.type === "num";
      const direction = button.dataset.direction === "asc" ? "desc" : "asc";
      $$("button.sort").forEach(function (other) { delete other.dataset.direction; });
      button.dataset.direction = direction;
      const sign = direction === "asc" ? 1 : -1;
      const sorted = bodies.slice().sort(function (a, b) {
        const x = sortValue(a, column, numeric);
        const y = sortValue(b, column, numeric);
        if (x === y) return 0;
        if (x === null) return 1; // unknown values last, whichever the direction
        if (y === null) return -1;
        return (x < y ? -1 : 1) * sign;
      });
      sorted.forEach(function (body) { table.appendChild(body); });
    });
  });

  // ------------------------------------------------------------------------------------------ copy, links
  function copyText(value, button) {
    function done() {
      button.classList.add("done");
      setTimeout(function () { button.classList.remove("done"); }, 1200);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).then(done, function () {});
      return;
    }
    const area = document.createElement("textarea");
    area.value = value;
    area.setAttribute("readonly", "");
    document.body.appendChild(area);
    area.select();
    try { document.execCommand("copy"); done(); } catch (error) { /* nothing to copy to */ }
    document.body.removeChild(area);
  }
  $$("button.copy").forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.stopPropagation();
      copyText(button.dataset.copy, button);
    });
  });

  $$("button.to-findings").forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.stopPropagation();
      setFilters(null, "", button.dataset.sample);
      $("#findings").scrollIntoView();
    });
  });

  function showSampleFromHash() {
    const id = decodeURIComponent(location.hash.slice(1));
    if (id.indexOf("s-") !== 0) return;
    const body = bodies.find(function (candidate) { return "s-" + candidate.dataset.sample === id; });
    if (!body) return;
    body.hidden = false;
    openSample(body, true);
    body.classList.add("flash");
    setTimeout(function () { body.classList.remove("flash"); }, 1500);
    $("tr.sample-row", body).scrollIntoView({ block: "center" });
  }
  window.addEventListener("hashchange", showSampleFromHash);
  showSampleFromHash();
  applyFindingFilter();
})();
