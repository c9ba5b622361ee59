// Draws the timeline rows from the JSON in #trace-data (see PageData in html.ts). It runs as an
// inline module: its own scope, and nothing is fetched.
// Rows are appended a chunk at a time as the reader scrolls, so huge traces open quickly;
// filters rebuild the list of matching rows and start drawing again from the top.
const data = JSON.parse(document.getElementById("trace-data").textContent);
// positions in a row array
const T = 0;
const COL = 1;
const KIND = 2;
const TEXT = 3;
const TONE = 4;
const CONV = 6;
const HB = 7;
const LANES = 8;
const CHUNK = 400;
const tbody = document.querySelector("#timeline tbody");
const status = document.getElementById("status");
const shown = {
  cols: new Set([-1, ...data.nodes.map((_, i) => i)]),
  kinds: new Set(data.kinds.map((_, i) => i)),
  hb: true,
};
let matching = [];
let drawn = 0;
/** conversation id -> indices of its rows: a request, its deliveries, drops and replies */
const conversations = new Map();
data.rows.forEach((row, i) => {
  if (row[CONV] < 0) return;
  if (!conversations.has(row[CONV])) conversations.set(row[CONV], []);
  conversations.get(row[CONV]).push(i);
});
const elementOf = new Map();
let linked = null;

function laneCell(lane) {
  const [role, term, cut, dead] = lane;
  const td = document.createElement("td");
  const known = role === "follower" || role === "candidate" || role === "leader";
  td.className = `lane ${dead ? "dead" : known ? `r-${role}` : "r-other"}${cut ? " cut" : ""}`;
  const lab = document.createElement("span");
  lab.className = "lab";
  const letter = dead ? "✝" : role.slice(0, 1).toUpperCase();
  lab.textContent = `${cut ? "✂ " : ""}${letter}${term ?? ""}`;
  lab.title = `${role}${dead ? " (dead)" : ""}, term ${term ?? "?"}${cut ? ", cut off" : ""}`;
  td.append(lab);
  return td;
}

function eventSpan(row, i) {
  const span = document.createElement("span");
  span.className = "ev";
  span.tabIndex = 0;
  const kind = document.createElement("span");
  kind.className = "kind";
  kind.textContent = data.kinds[row[KIND]];
  span.append(kind, row[TEXT]);
  if (row[CONV] >= 0) {
    span.dataset.conv = String(row[CONV]);
    span.setAttribute("role", "button");
    if (row[CONV] === linked) span.classList.add("linked");
  }
  span.dataset.i = String(i);
  return span;
}

function rowElement(i) {
  const row = data.rows[i];
  const tr = document.createElement("tr");
  tr.className = [
    `k-${data.kinds[row[KIND]].replace(/[^a-z0-9-]/gi, "_")}`,
    row[TONE] && `tone-${row[TONE]}`,
    row[HB] ? "hb" : "",
  ]
    .join(" ")
    .trim();
  tr.dataset.i = String(i);
  tr.dataset.node = String(row[COL] < 0 ? "test" : data.nodes[row[COL]]);
  const time = document.createElement("td");
  time.className = "time";
  time.textContent = String(row[T]);
  const test = document.createElement("td");
  test.className = "test";
  tr.append(time, test);
  tr.append(...data.lanes[row[LANES]].map(laneCell));
  const target = row[COL] < 0 ? test : tr.children[row[COL] + 2];
  target.append(eventSpan(row, i));
  return tr;
}

function drawMore(until) {
  const end = Math.min(matching.length, Math.max(drawn + CHUNK, until ?? 0));
  const fragment = document.createDocumentFragment();
  for (; drawn < end; drawn++) {
    const i = matching[drawn];
    const tr = rowElement(i);
    elementOf.set(i, tr);
    fragment.append(tr);
  }
  tbody.append(fragment);
  status.textContent =
    `${matching.length} of ${data.rows.length} events match the filters; ${drawn} drawn` +
    (drawn < matching.length ? " (more appear as you scroll)" : "");
}

function refilter() {
  matching = [];
  data.rows.forEach((row, i) => {
    if (shown.cols.has(row[COL]) && shown.kinds.has(row[KIND]) && (shown.hb || !row[HB]))
      matching.push(i);
  });
  tbody.replaceChildren();
  elementOf.clear();
  drawn = 0;
  drawMore();
}

/** Makes sure row i is drawn (if it matches the filters) and returns its event span. */
function spanOf(i) {
  const at = matching.indexOf(i);
  if (at >= drawn) drawMore(at + 1);
  return elementOf.get(i)?.querySelector(".ev") ?? null;
}

/** Linking draws every row of the conversation; hovering only marks rows already drawn. */
function markLinked(conv, on, cls = "linked") {
  for (const i of conversations.get(conv) ?? []) {
    const span = cls === "linked" && on ? spanOf(i) : elementOf.get(i)?.querySelector(".ev");
    span?.classList.toggle(cls, on);
  }
}

function link(span) {
  const conv = Number(span.dataset.conv);
  document.querySelector(".ev.current")?.classList.remove("current");
  if (linked !== null) markLinked(linked, false);
  linked = linked === conv && span.classList.contains("linked") ? null : conv;
  if (linked === null) return;
  markLinked(linked, true);
  span.classList.add("current");
}

/** n / p: move focus along the linked message's rows. */
function step(direction) {
  if (linked === null) return;
  const spans = [...document.querySelectorAll(".ev.linked")];
  const at = spans.indexOf(document.querySelector(".ev.current"));
  const next = spans[at + direction];
  if (!next) return;
  document.querySelector(".ev.current")?.classList.remove("current");
  next.classList.add("current");
  next.focus();
  next.scrollIntoView({ block: "center" });
}

tbody.addEventListener("click", (e) => {
  const span = e.target.closest(".ev[data-conv]");
  if (span) link(span);
});
tbody.addEventListener("keydown", (e) => {
  const span = e.target.closest(".ev[data-conv]");
  if (span && (e.key === "Enter" || e.key === " ")) {
    e.preventDefault();
    link(span);
  }
});
for (const [type, on] of [
  ["mouseover", true],
  ["mouseout", false],
]) {
  tbody.addEventListener(type, (e) => {
    const span = e.target.closest(".ev[data-conv]");
    if (span) markLinked(Number(span.dataset.conv), on, "hover");
  });
}

const hb = document.getElementById("show-hb");
hb.addEventListener("change", () => {
  shown.hb = hb.checked;
  refilter();
});
function bindSet(selector, attr, set) {
  for (const box of document.querySelectorAll(selector)) {
    box.addEventListener("change", () => {
      const value = Number(box.getAttribute(attr));
      if (box.checked) set.add(value);
      else set.delete(value);
      refilter();
    });
  }
}
bindSet("#node-filter input", "data-col", shown.cols);
bindSet("#kind-filter input", "data-kind", shown.kinds);
for (const [id, on] of [
  ["kinds-all", true],
  ["kinds-none", false],
]) {
  document.getElementById(id).addEventListener("click", () => {
    for (const box of document.querySelectorAll("#kind-filter input")) {
      box.checked = on;
      if (on) shown.kinds.add(Number(box.dataset.kind));
      else shown.kinds.delete(Number(box.dataset.kind));
    }
    refilter();
  });
}

document.addEventListener("keydown", (e) => {
  // single-letter keys must not fire while typing; this page has no text fields, but stay safe
  if (e.target.matches?.("input:not([type=checkbox]), textarea, select") && e.key !== "Escape")
    return;
  if (e.key === "h" && !e.ctrlKey && !e.metaKey) {
    hb.checked = !hb.checked;
    hb.dispatchEvent(new Event("change"));
  } else if (e.key === "Escape" && linked !== null) {
    markLinked(linked, false);
    document.querySelector(".ev.current")?.classList.remove("current");
    linked = null;
  } else if (e.key === "n" || e.key === "p") {
    step(e.key === "n" ? 1 : -1);
  }
});

new IntersectionObserver(
  (entries) => {
    if (entries.some((entry) => entry.isIntersecting) && drawn < matching.length) drawMore();
  },
  { rootMargin: "800px" },
).observe(document.getElementById("more"));
refilter();
