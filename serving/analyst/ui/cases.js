// Cases, viral bursts, ageing and blind review on the analyst page (issue 21).
// Uses app.js's helpers (el, api, prio, pct, when, setView, showAlert, showReport); every
// value from the server goes on the page as text.
"use strict";

// A blind report not yet decided: no priority, probability or reasons are shown.
function blindTag() { return el("span", { class: "prio prio-blind", text: "Blind", title: "blind review: decide before seeing the suggestion" }); }
function prioOrBlind(p) { return p === null || p === undefined ? blindTag() : prio(p); }
function pctOrHidden(p) { return p === null || p === undefined ? "hidden" : pct(p); }

function waited(minutes) {
  if (minutes === null || minutes === undefined) return "–";
  if (minutes < 60) return `${Math.round(minutes)} min`;
  if (minutes < 48 * 60) return `${(minutes / 60).toFixed(1)} h`;
  return `${(minutes / 1440).toFixed(1)} d`;
}

// Ageing, burst and case badges of a queue entry (report or case).
function triageBadges(item) {
  const out = [];
  const a = item.ageing;
  if (a) {
    out.push(el("span", {
      class: a.overdue ? "badge late overdue" : "badge",
      text: a.overdue ? `overdue: waiting ${waited(a.waiting_minutes)}` : `waiting ${waited(a.waiting_minutes)}`,
      title: a.target_minutes ? `service target: ${waited(a.target_minutes)}` : "no service target",
    }));
  }
  const burst = item.viral_burst || (item.burst && item.burst.accounts);
  if (burst) out.push(el("span", { class: "badge warn viral", text: `viral burst: ${burst} accounts` }));
  if (item.blind) out.push(el("span", { class: "badge", text: "blind review" }));
  return out;
}

function caseLink(id) { return el("a", { href: `#/case/${id}`, text: `case ${id}` }); }

// ---------------------------------------------------------------- case list
async function showCases() {
  const order = state.caseOrder || "priority";
  const cursor = (state.caseCursors || [null]).slice(-1)[0];
  const query = { limit: 50, order };
  if (state.caseDecided) query.decided = state.caseDecided === "yes";
  if (cursor) query.cursor = cursor;
  const page = await api("/cases", { query });
  const filters = el("form", { class: "filters", id: "case-filters", onsubmit: (e) => {
    e.preventDefault();
    const data = new FormData(e.target);
    state.caseOrder = data.get("order");
    state.caseDecided = data.get("decided");
    state.caseCursors = [null];
    route();
  } },
    el("div", {}, el("label", { for: "c-order", text: "Order" }),
      el("select", { id: "c-order", name: "order" },
        ...[["priority", "priority, then probability"], ["priority_age", "priority, then longest waiting"]].map(([v, t]) => el("option", { value: v, selected: order === v, text: t })))),
    el("div", {}, el("label", { for: "c-decided", text: "Decided" }),
      el("select", { id: "c-decided", name: "decided" },
        ...[["", "any"], ["no", "not yet"], ["yes", "decided"]].map(([v, t]) => el("option", { value: v, selected: (state.caseDecided || "") === v, text: t })))),
    el("button", { type: "submit", text: "Apply" }));
  const rows = page.items.map((c) => el("tr", { "data-case": c.case_id, "data-kind": c.kind },
    el("td", {}, prio(c.top_priority)),
    el("td", { class: "id" }, caseLink(c.case_id)),
    el("td", { text: c.kind === "burst" ? `viral burst of ${c.members}` : `${c.members} reports` }),
    el("td", { class: "num", text: String(c.undecided) }),
    el("td", { text: c.linked_by.join(", ") || "–" }),
    el("td", { text: `${when(c.oldest_received_at)} – ${when(c.newest_received_at)}` }),
    el("td", {}, triageBadges(c))));
  const table = el("table", { id: "cases" },
    el("caption", { class: "muted", text: `${page.total} cases (a viral burst is one entry)` }),
    el("thead", {}, el("tr", {}, ...["Priority", "Case", "Reports", "Undecided", "Linked by", "Received", "Status"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { colspan: 7, text: "No cases yet." }))));
  const cursors = state.caseCursors || [null];
  const pager = el("div", { class: "pager" },
    el("button", { type: "button", disabled: cursors.length === 1, onclick: () => { cursors.pop(); route(); }, text: "Previous page" }),
    el("button", { type: "button", disabled: !page.next_cursor, onclick: () => { state.caseCursors = [...cursors, page.next_cursor]; route(); }, text: "Next page" }));
  setView("Cases", filters, table, pager);
}

// ---------------------------------------------------------------- one case
function caseDecisionForm(view) {
  const reasons = Object.entries(view.reasons || {}).map(([v, t]) => el("option", { value: v, text: t }));
  const status = el("div", { id: "case-decision-status", role: "status" });
  const form = el("form", { id: "case-decision-form" });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const body = { case_id: view.case.case_id, action: data.get("action"), reason: data.get("reason"), designation: data.get("designation"), note: data.get("note") || "" };
    if (body.action === "override") body.priority = Number(data.get("priority"));
    try {
      const out = await api("/decide_case", { decision: body });
      const left = out.left_for_blind_review || [];
      const one = left.length === 1;
      const blind = left.length ? ` Under blind review, left for a decision of ${one ? "its" : "their"} own (name a priority): ${left.join(", ")}.` : "";
      const n = out.decisions.length;
      await showCase(view.case.case_id, `Recorded ${n} ${n === 1 ? "decision" : "decisions"} for case ${out.case_id}.${blind}`);
    } catch (err) {
      if (err.status === 401) return signOut("Your key was not accepted; sign in again.");
      status.replaceChildren(el("p", { class: "alert", id: "case-decision-error", text: `Not recorded — ${err.detail || err.message}` }));
    }
  });
  form.append(el("fieldset", {},
    el("legend", { text: `One decision for the ${view.case.undecided} undecided reports (each gets its own decision)` }),
    el("div", { class: "form-grid" },
      el("div", {},
        el("label", {}, el("input", { type: "radio", name: "action", value: "accept", checked: true }), " Accept each report's suggestion"),
        el("label", {}, el("input", { type: "radio", name: "action", value: "override" }), " Set one priority for all"),
        el("label", { for: "cd-priority", text: "Priority" }),
        el("select", { id: "cd-priority", name: "priority" }, ...[1, 2, 3].map((p) => el("option", { value: p, text: `Priority ${p}` })))),
      el("div", {},
        el("label", { for: "cd-designation", text: "Designation" }),
        el("select", { id: "cd-designation", name: "designation" },
          el("option", { value: "referral", text: "Referral (actionable)" }), el("option", { value: "informational", text: "Informational" })),
        el("label", { for: "cd-reason", text: "Reason" }),
        el("select", { id: "cd-reason", name: "reason", required: true }, reasons)),
      el("div", {},
        el("label", { for: "cd-note", text: "Note (optional; no names, emails, IPs or phone numbers)" }),
        el("textarea", { id: "cd-note", name: "note", maxlength: 1000 }))),
    el("p", {}, el("button", { type: "submit", class: "primary", text: "Record for all undecided" }))), status);
  return form;
}

const REASON_WORDS = {
  agree_with_suggestion: "Agree with the suggestion and its reasons",
  imminent_risk_in_report: "The report shows imminent risk to a child",
  contact_offence_indicated: "Contact offence or enticement indicated",
  insufficient_information: "Not enough user, location or file information",
  known_or_viral_content: "Known, viral or meme content",
  jurisdiction_or_routing: "Jurisdiction or routing",
  linked_to_open_case: "Linked to an open case",
  model_missed_context: "The suggestion misses context in the report",
  other: "Other (say why in the note)",
};

async function showCase(caseId, notice) {
  const view = await api("/case", { case: { case_id: Number(caseId) } });
  view.reasons = REASON_WORDS;
  const c = view.case;
  const members = el("table", { id: "case-members" },
    el("thead", {}, el("tr", {}, ...["Priority", "Probability", "Report", "Received", "Why (strongest reasons)", "Decision", "Status"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, view.members.map((m) => el("tr", { "data-report": m.report_id },
      el("td", {}, prioOrBlind(m.suggested_priority)),
      el("td", { class: "num", text: pctOrHidden(m.escalation_probability) }),
      el("td", { class: "id" }, el("a", { href: `#/report/${encodeURIComponent(m.report_id)}`, text: m.report_id })),
      el("td", { text: when(m.received_at) }),
      el("td", { text: m.summary.length ? m.summary.join("; ") : (m.suggested_priority === null ? "hidden until decided (blind review)" : "–") }),
      el("td", { text: m.decision ? `P${m.decision.priority} (${m.decision.action})` : "not yet" }),
      el("td", {}, triageBadges({ ageing: m.ageing, blind: m.blind, viral_burst: c.burst ? c.burst.accounts : null }))))));
  const shared = view.shared.length
    ? el("ul", { class: "plain", id: "case-shared" }, view.shared.map((s) => el("li", {}, el("code", { text: `${s.hash_prefix}…` }), ` ${s.kind}, in ${s.reports} reports`)))
    : el("p", { id: "case-shared", class: "muted", text: "No identifier shared by the reports shown." });
  const facts = el("div", { class: "summary", id: "case-summary" },
    el("div", {}, el("span", { class: "label", text: "Highest suggested priority" }), prio(c.top_priority)),
    el("div", {}, el("span", { class: "label", text: "Reports" }), `${c.members} (${c.undecided} undecided)`),
    el("div", {}, el("span", { class: "label", text: "Linked by" }), c.linked_by.join(", ") || "–"),
    el("div", {}, el("span", { class: "label", text: "Received" }), `${when(c.oldest_received_at)} – ${when(c.newest_received_at)}`),
    el("div", {}, el("span", { class: "label", text: "Status" }), ...triageBadges(c)));
  setView(c.kind === "burst" ? `Viral burst ${c.case_id}` : `Case ${c.case_id}`,
    el("p", {}, el("a", { href: "#/cases", text: "← Back to the cases" })),
    notice ? el("p", { class: "notice", role: "status", text: notice }) : null,
    facts,
    el("h2", { text: `Reports (${view.members_shown} of ${c.members} shown, highest priority first)` }), members,
    el("h2", { text: "Shared identifiers (hash prefixes)" }), shared,
    c.undecided ? caseDecisionForm(view) : el("p", { class: "muted", id: "case-decided", text: "Every report of this case is decided." }));
}

// ---------------------------------------------------------------- a blind report
// The report's facts and rule warnings, no suggestion: the analyst names a priority.
async function showBlindReport(view, notice) {
  const warnings = view.warnings.length
    ? el("ul", { class: "plain", id: "warnings" }, view.warnings.map((w) => el("li", { "data-code": w.code }, el("strong", { text: `${w.code.replaceAll("_", " ")}: ` }), w.text)))
    : el("p", { id: "warnings", class: "muted", text: "No warnings." });
  const reasons = Object.entries(view.reasons).map(([v, t]) => el("option", { value: v, text: t }));
  const status = el("div", { id: "decision-status", role: "status" });
  const form = el("form", { id: "decision-form" });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const body = { report_id: view.report_id, action: "override", priority: Number(data.get("priority")), reason: data.get("reason"), designation: data.get("designation"), note: data.get("note") || "" };
    try {
      const out = await api("/decide", { decision: body });
      await showReport(view.report_id, `Decision recorded: priority ${out.priority} by ${out.analyst}. The suggestion is shown now.`);
    } catch (err) {
      if (err.status === 401) return signOut("Your key was not accepted; sign in again.");
      status.replaceChildren(el("p", { class: "alert", id: "decision-error", text: `Not recorded — ${err.detail || err.message}` }));
    }
  });
  form.append(el("fieldset", {}, el("legend", { text: "Your decision" }),
    el("div", { class: "form-grid" },
      el("div", {}, el("label", { for: "d-priority", text: "Priority" }),
        el("select", { id: "d-priority", name: "priority", required: true }, el("option", { value: "", text: "Choose a priority" }), ...[1, 2, 3].map((p) => el("option", { value: p, text: `Priority ${p}` })))),
      el("div", {}, el("label", { for: "d-designation", text: "Designation" }),
        el("select", { id: "d-designation", name: "designation" }, el("option", { value: "referral", text: "Referral (actionable)" }), el("option", { value: "informational", text: "Informational" })),
        el("label", { for: "d-reason", text: "Reason" }), el("select", { id: "d-reason", name: "reason", required: true }, reasons)),
      el("div", {}, el("label", { for: "d-note", text: "Note (optional; no names, emails, IPs or phone numbers)" }), el("textarea", { id: "d-note", name: "note", maxlength: 1000 }))),
    el("p", {}, el("button", { type: "submit", class: "primary", text: "Record decision" }))), status);
  setView(`Report ${view.report_id}`,
    el("p", {}, el("a", { href: "#/queue", text: "← Back to the queue" }), " · ", view.case_id ? caseLink(view.case_id) : null),
    notice ? el("p", { class: "notice", role: "status", text: notice }) : null,
    el("p", { class: "notice", id: "blind-notice", text: "Blind review: decide from the report itself. The model's suggestion, probability and reasons are shown once you have decided." }),
    el("h2", { text: "Key facts (from the report, not the model)" }), keyFacts(view.key_facts || []),
    el("h2", { text: "Warnings (rules, not the model)" }), warnings,
    form);
}
