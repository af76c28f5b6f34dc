// The analyst page: queue → report → decision. Plain DOM, no libraries, no external assets.
// Everything from the server is put on the page with textContent (never as HTML), and the
// Content-Security-Policy allows scripts from this origin only.
"use strict";

const KEY = "tipscore.key";
const state = { cursors: [null], filters: { priority: "", esp: "", decided: "" } };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function showAlert(message) {
  const box = document.getElementById("alert");
  box.textContent = message || "";
  box.hidden = !message;
}

class ApiError extends Error {
  // `detail` is the API's own words (e.g. "note: looks like it holds a phone number; ..."),
  // `field` the request field it names, when it names one.
  constructor(status, detail, field) { super(`${status}: ${detail}`); this.status = status; this.detail = detail; this.field = field; }
}

// The API's message from an error body, in each documented shape: validation errors
// ({"error": "N validation error for Input", "detail": [{loc, msg}]}) become "field: msg";
// the service's own checks ({"error": "field: problem"}) and refusals
// ({"error": code, "message": ...}) are shown as they come.
function apiMessage(data) {
  if (data && Array.isArray(data.detail) && data.detail.length) {
    const parts = data.detail.map((d) => {
      const field = (d.loc || []).filter((p) => typeof p === "string").slice(-1)[0];
      const msg = String(d.msg || "").replace(/^Value error, /, "");
      return { field, text: field ? `${field}: ${msg}` : msg };
    });
    return { text: parts.map((p) => p.text).join("; "), field: parts[0].field };
  }
  const text = (data && (data.message || data.error)) || "";
  const named = /^([a-z_]+): /.exec(text);
  return { text, field: named ? named[1] : undefined };
}

async function api(path, body) {
  const key = sessionStorage.getItem(KEY);
  const init = { method: body === undefined ? "GET" : "POST", headers: { Authorization: `Bearer ${key}` } };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (_) { data = { message: text }; }
  if (!response.ok) {
    const { text: message, field } = apiMessage(data);
    throw new ApiError(response.status, message || response.statusText, field);
  }
  return data;
}

function pct(p) { return `${(100 * p).toFixed(p < 0.001 ? 3 : p < 0.1 ? 2 : 1)}%`; }
function when(iso) { return iso ? iso.replace("T", " ").replace(/\.\d+/, "").replace("+00:00", " UTC") : "–"; }
function prio(p) { return el("span", { class: `prio prio-${p}`, text: `P${p}`, title: `suggested priority ${p}` }); }

function badgeList(b) {
  const out = [];
  if (b.files_not_viewed) out.push(el("span", { class: "badge warn", text: "files not viewed by platform" }));
  if (b.preservation_days_left !== null) {
    const left = b.preservation_days_left;
    out.push(el("span", {
      class: left < 30 ? "badge late" : "badge",
      text: left < 0 ? `preservation ended ${-left} d ago` : `preservation: ${left} d left`,
      title: `preserve until ${b.preservation_deadline}`,
    }));
  }
  if (b.likely_informational) out.push(el("span", { class: "badge", text: "likely informational" }));
  if (b.linked_reports) out.push(el("span", { class: "badge warn", text: "linked reports" }));
  return out;
}

function setView(title, ...content) {
  const view = document.getElementById("view");
  const parts = content.filter((part) => part !== null && part !== undefined);
  view.replaceChildren(el("h1", { id: "view-title", tabindex: "-1", text: title }), ...parts);
  document.title = `${title} — tipscore`;
  document.getElementById("view-title").focus();
}

// ---------------------------------------------------------------- queue
async function showQueue() {
  const f = state.filters;
  const cursor = state.cursors[state.cursors.length - 1];
  const query = { limit: 50 };
  if (f.priority) query.priority = Number(f.priority);
  if (f.esp) query.esp = f.esp;
  if (f.decided) query.decided = f.decided === "yes";
  if (cursor) query.cursor = cursor;
  const page = await api("/queue", { query });

  const filters = el("form", { class: "filters", id: "filters", onsubmit: (e) => {
    e.preventDefault();
    const data = new FormData(e.target);
    state.filters = { priority: data.get("priority"), esp: data.get("esp").trim(), decided: data.get("decided") };
    state.cursors = [null];
    route();
  } },
    el("div", {}, el("label", { for: "f-priority", text: "Suggested priority" }),
      el("select", { id: "f-priority", name: "priority" },
        ...[["", "any"], ["1", "1"], ["2", "2"], ["3", "3"]].map(([v, t]) => el("option", { value: v, selected: f.priority === v, text: t })))),
    el("div", {}, el("label", { for: "f-esp", text: "ESP" }),
      el("input", { id: "f-esp", name: "esp", value: f.esp, placeholder: "any" })),
    el("div", {}, el("label", { for: "f-decided", text: "Decided" }),
      el("select", { id: "f-decided", name: "decided" },
        ...[["", "any"], ["no", "not yet"], ["yes", "decided"]].map(([v, t]) => el("option", { value: v, selected: f.decided === v, text: t })))),
    el("button", { type: "submit", text: "Apply filters" }));

  const rows = page.items.map((item) => el("tr", { "data-report": item.report_id },
    el("td", {}, prioOrBlind(item.suggested_priority)),
    el("td", { class: "num", text: pctOrHidden(item.escalation_probability) }),
    el("td", { class: "id" }, el("a", { href: `#/report/${encodeURIComponent(item.report_id)}`, text: item.report_id })),
    el("td", { text: when(item.received_at) }),
    el("td", { text: item.esp || "not named" }),
    el("td", { text: item.incident_type }),
    el("td", {}, badgeList(item.badges), triageBadges(item), item.case_id ? caseLink(item.case_id) : null),
    el("td", { text: item.decided ? `yes (P${item.decided_priority})` : "no" })));
  const table = el("table", { id: "queue" },
    el("caption", { class: "muted", text: `${page.total} reports match; ordered by suggested priority, then probability` }),
    el("thead", {}, el("tr", {}, ...["Priority", "Probability", "Report", "Received", "ESP", "Incident type", "Warnings", "Decided"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 8, text: "Nothing to show: no scored reports match." }))));
  const pager = el("div", { class: "pager" },
    el("button", { type: "button", disabled: state.cursors.length === 1, onclick: () => { state.cursors.pop(); route(); }, text: "Previous page" }),
    el("span", { class: "muted", text: `page ${state.cursors.length}` }),
    el("button", { type: "button", disabled: !page.next_cursor, onclick: () => { state.cursors.push(page.next_cursor); route(); }, text: "Next page" }));
  setView("Queue", filters, table, pager);
}

// ---------------------------------------------------------------- report
// Rules' warnings with legal weight stay among the warnings; other parser notes (xml_*) are
// technical and go in a collapsed section.
const LEGAL_WARNINGS = new Set(["files_not_viewed", "preservation_deadline", "preservation_expired"]);
function isParserNote(w) { return w.code.startsWith("xml_") && !LEGAL_WARNINGS.has(w.code); }

function signed(x) { return `${x >= 0 ? "+" : ""}${x.toFixed(3)}`; }

function chart(explanation, facts) {
  const items = explanation.contributions;
  const grouped = explanation.not_applicable || null;
  const most = Math.max(...items.map((c) => Math.abs(c.contribution)), grouped ? Math.abs(grouped.contribution) : 0, 1e-9);
  const located = facts.find((f) => f.code === "location");
  const barCell = (value) => {
    const bar = el("div", { class: value >= 0 ? "bar-up" : "bar-down", title: `${signed(value)} log-odds` });
    bar.style.width = `${(50 * Math.abs(value)) / most}%`;
    return el("td", { class: "bar" }, el("div", { class: "axis", role: "img", "aria-label": `${value >= 0 ? "raises" : "lowers"} the score by ${Math.abs(value).toFixed(3)} log-odds` }, bar));
  };
  const rows = items.map((c) => {
    const context = located && ["country", "location_source"].includes(c.feature)
      ? el("div", { class: "context", text: `Location: ${located.text}` }) : null;
    return el("tr", { class: "contribution" },
      el("td", { class: "words" }, c.text, context),
      barCell(c.contribution),
      el("td", { class: "num", text: signed(c.contribution) }),
      el("td", { class: "num secondary", text: String(c.value) }),
      el("th", { scope: "row", class: "feature", text: c.feature }));
  });
  if (grouped) {
    rows.push(el("tr", { class: "not-applicable", id: "not-applicable" },
      el("td", { class: "words", text: grouped.text }),
      barCell(grouped.contribution),
      el("td", { class: "num", text: signed(grouped.contribution) }),
      el("td", { class: "secondary", text: "–" }),
      el("td", { class: "feature", text: grouped.contributions.map((c) => c.feature).join(", ") })));
  }
  return el("div", {},
    el("table", { class: "chart", id: "chart" },
      el("thead", {}, el("tr", {}, ...["Reason", "Lowers ← → raises", "Log-odds", "Value", "Feature"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, rows)),
    el("p", { class: "scale" },
      `Base value (average report): ${explanation.base_value.toFixed(3)} log-odds; this report's raw score: ${explanation.raw_score.toFixed(3)}. `,
      "The chart is in log-odds: the base value plus all contributions gives the raw score, which calibration maps to the probability. ",
      "Do not add these numbers to the probability."));
}

function readingSummary(s) {
  // suggestions stored before the summary existed: the first reasons' own sentences
  const phrases = (s.summary && s.summary.length) ? s.summary
    : s.explanation.contributions.slice(0, 3).map((c) => c.text);
  return el("section", { id: "reading-summary", class: "reading", "aria-labelledby": "reading-title" },
    el("h2", { id: "reading-title", text: `In short: suggested priority ${s.suggested_priority}` }),
    phrases.length ? el("ul", { class: "plain" }, phrases.map((p) => el("li", { text: p })))
      : el("p", { class: "muted", text: "No reason stood out: the report scored close to the average report." }));
}

function keyFacts(facts) {
  if (!facts.length) {
    return el("p", { id: "key-facts", class: "muted", text: "Key facts were not computed for this suggestion (scored before they were added)." });
  }
  return el("dl", { id: "key-facts", class: "facts" },
    facts.map((f) => el("div", { "data-code": f.code }, el("dt", { text: f.label }), el("dd", { text: f.text }))));
}

// The decision form offers only what the API accepts: no override priority until one is
// chosen, and at each priority only the designations the training-data rules allow
// (`view.designations`, from the API: priority 1 is always a referral).
function decisionForm(view) {
  const s = view.suggestion;
  const reasons = Object.entries(view.reasons).map(([v, t]) => el("option", { value: v, text: t }));
  const priority = el("select", { id: "d-priority", name: "priority", disabled: true, required: true },
    el("option", { value: "", text: "Choose a priority" }),
    ...[1, 2, 3].filter((p) => p !== s.suggested_priority).map((p) => el("option", { value: p, text: `Priority ${p}` })));
  const designation = el("select", { id: "d-designation", name: "designation", "aria-describedby": "d-designation-hint" },
    el("option", { value: "referral", selected: !view.badges.likely_informational, text: "Referral (actionable)" }),
    el("option", { value: "informational", selected: view.badges.likely_informational, text: "Informational" }));
  const hint = el("p", { id: "d-designation-hint", class: "hint-line" });
  const status = el("div", { id: "decision-status", role: "status" });
  const form = el("form", { id: "decision-form" });
  const chosen = () => {
    const action = new FormData(form).get("action");
    if (action !== "override") return s.suggested_priority;
    return priority.value ? Number(priority.value) : null;
  };
  const limit = () => {
    priority.disabled = new FormData(form).get("action") !== "override";
    const p = chosen();
    const allowed = (view.designations && p !== null && view.designations[String(p)]) || ["referral", "informational"];
    for (const option of designation.options) option.disabled = !allowed.includes(option.value);
    if (!allowed.includes(designation.value)) designation.value = allowed[0];
    hint.textContent = allowed.length === 1 ? `A priority-${p} decision is always ${allowed[0] === "referral" ? "a referral" : allowed[0]}.` : "";
  };
  // Mark the field the API named (read with its error by screen readers) and move there.
  const invalid = (field) => {
    for (const control of form.querySelectorAll("[aria-invalid]")) {
      control.removeAttribute("aria-invalid");
      const rest = (control.getAttribute("aria-describedby") || "").replace("decision-error", "").trim();
      if (rest) control.setAttribute("aria-describedby", rest); else control.removeAttribute("aria-describedby");
    }
    const control = field && form.elements.namedItem(field);
    if (!control || !control.focus) return;
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", `${control.getAttribute("aria-describedby") || ""} decision-error`.trim());
    control.focus();
  };
  form.addEventListener("change", limit);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    // the suggestion on screen: a report scored again since is refused (409), not decided unseen
    const body = { report_id: view.report_id, action: data.get("action"), reason: data.get("reason"), designation: data.get("designation"), note: data.get("note") || "", seen_scored_at: view.scored_at };
    if (body.action === "override") body.priority = Number(data.get("priority"));
    try {
      const out = await api("/decide", { decision: body });
      showAlert("");
      await showReport(view.report_id, `Decision recorded: priority ${out.priority} (${out.action}) by ${out.analyst}.`);
    } catch (err) {
      if (err.status === 401) return signOut("Your key was not accepted; sign in again.");
      status.replaceChildren(el("p", { class: "alert", id: "decision-error", text: `Not recorded — ${err.detail || err.message}` }));
      invalid(err.field);
    }
  });
  form.append(
    el("fieldset", {},
      el("legend", { text: "Your decision" }),
      el("div", { class: "form-grid" },
        el("div", {},
          el("label", {}, el("input", { type: "radio", name: "action", value: "accept", checked: true }), ` Accept the suggestion (priority ${s.suggested_priority})`),
          el("label", {}, el("input", { type: "radio", name: "action", value: "override" }), " Set another priority"),
          el("label", { for: "d-priority", text: "Priority" }), priority),
        el("div", {},
          el("label", { for: "d-designation", text: "Designation" }), designation, hint,
          el("label", { for: "d-reason", text: "Reason" }),
          el("select", { id: "d-reason", name: "reason", required: true }, reasons)),
        el("div", {},
          el("label", { for: "d-note", text: "Note (optional; no names, emails, IPs or phone numbers)" }),
          el("textarea", { id: "d-note", name: "note", maxlength: 1000 }))),
      el("p", {}, el("button", { type: "submit", class: "primary", text: "Record decision" }))),
    status);
  limit();
  return form;
}

async function showReport(reportId, notice) {
  const view = await api("/report", { report: { report_id: reportId } });
  if (!view.suggestion) return showBlindReport(view, notice);  // blind review (cases.js)
  const s = view.suggestion;
  const t = s.thresholds;
  const facts = s.key_facts || [];
  const reporter = (facts.find((f) => f.code === "reporter") || {}).text;
  const summary = el("div", { class: "summary", id: "suggestion" },
    el("div", {}, el("span", { class: "label", text: "Suggested priority" }), prio(s.suggested_priority)),
    el("div", {}, el("span", { class: "label", text: "Escalation probability (calibrated)" }), pct(s.escalation_probability)),
    el("div", {}, el("span", { class: "label", text: "Thresholds" }), `P1 ≥ ${pct(t.p1)}, P2 ≥ ${pct(t.p2)}`),
    el("div", {}, el("span", { class: "label", text: "Received" }), when(view.received_at)),
    el("div", {}, el("span", { class: "label", text: "Reporter" }), reporter || view.esp || "not named"),
    el("div", {}, el("span", { class: "label", text: "Incident type" }), view.incident_type),
    el("div", {}, el("span", { class: "label", text: "Model" }), `${s.model_name} v${s.model_version} `, el("a", { href: "#/model", text: "model card" })));
  const legal = s.warnings.filter((w) => !isParserNote(w));
  const notes = s.warnings.filter(isParserNote);
  const technical = notes.length
    ? el("details", { id: "technical-notes" }, el("summary", { text: `Technical notes (${notes.length} from the XML parser)` }),
      el("ul", { class: "plain" }, notes.map((w) => el("li", { "data-code": w.code }, el("code", { text: w.code }), ` ${w.text}`))))
    : null;
  const warnings = legal.length
    ? el("ul", { class: "plain", id: "warnings" }, legal.map((w) => el("li", { "data-code": w.code }, el("strong", { text: `${w.code.replaceAll("_", " ")}: ` }), w.text)))
    : el("p", { id: "warnings", class: "muted", text: "No warnings." });
  const linked = view.linked.length
    ? el("ul", { class: "plain", id: "linked" }, view.linked.map((l) => el("li", {},
      l.in_queue ? el("a", { href: `#/report/${encodeURIComponent(l.report_id)}`, text: l.report_id }) : el("span", { text: l.report_id }),
      ` — received ${when(l.received_at)}, shares ${l.shared.join(", ")}${l.escalated ? ", escalated" : ""}`)))
    : el("p", { id: "linked", class: "muted", text: "No earlier reports share its hashed identifiers." });
  const history = view.decisions.length
    ? el("table", { id: "decisions" },
      el("thead", {}, el("tr", {}, ...["When", "Analyst", "Decision", "Priority", "Designation", "Reason", "Note"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, view.decisions.map((d, i) => el("tr", {},
        el("td", { text: when(d.decided_at) + (i === 0 ? " (current)" : " (superseded)") }),
        el("td", { text: d.analyst }), el("td", { text: d.action }), el("td", { text: `P${d.priority}` }),
        el("td", { text: d.designation }), el("td", { text: view.reasons[d.reason] || d.reason }), el("td", { text: d.note })))))
    : el("p", { class: "muted", text: "Not decided yet." });
  setView(`Report ${view.report_id}`,
    el("p", {}, el("a", { href: "#/queue", text: "← Back to the queue" }), view.case_id ? [" · ", caseLink(view.case_id)] : null),
    notice ? el("p", { class: "notice", role: "status", text: notice }) : null,
    readingSummary(s),
    el("h2", { text: "Key facts (from the report, not the model)" }), keyFacts(facts),
    el("p", { class: "muted", text: s.suggestion_only }),
    summary,
    el("h2", { text: "Why: the strongest reasons" }), chart(s.explanation, facts),
    el("h2", { text: "Warnings (rules, not the model)" }), warnings, technical,
    el("h2", { text: "Linked earlier reports" }), linked,
    el("h2", { text: "Decisions" }), history,
    decisionForm(view));
}

// ---------------------------------------------------------------- model card
// The tables are built in model_card.js (modelCardView).
async function showModel() {
  const card = await api("/model_card");
  setView("Model card", ...modelCardView(card));
}

// ---------------------------------------------------------------- routing and sign-in
function signOut(message) {
  sessionStorage.removeItem(KEY);
  showAlert(message || "");
  route();
}

async function route() {
  const signedIn = Boolean(sessionStorage.getItem(KEY));
  document.getElementById("login").hidden = signedIn;
  document.getElementById("signout").hidden = !signedIn;
  document.getElementById("view").hidden = !signedIn;
  if (!signedIn) { document.getElementById("key").focus(); return; }
  const hash = location.hash || "#/queue";
  try {
    if (hash.startsWith("#/report/")) await showReport(decodeURIComponent(hash.slice(9)));
    else if (hash.startsWith("#/case/")) await showCase(decodeURIComponent(hash.slice(7)));
    else if (hash === "#/cases") await showCases();
    else if (hash === "#/model") await showModel();
    else await showQueue();
    showAlert("");
  } catch (err) {
    if (err.status === 401) return signOut("Your key was not accepted; sign in again.");
    if (err.status === 403) return showAlert("This key's role may not read the queue: use an analyst key.");
    showAlert(err.message || String(err));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("login-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = document.getElementById("key");
    sessionStorage.setItem(KEY, input.value.trim());
    input.value = "";
    route();
  });
  document.getElementById("signout").addEventListener("click", () => signOut(""));
  window.addEventListener("hashchange", route);
  route();
});
