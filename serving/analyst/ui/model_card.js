// The model card view: the JSON card (GET /model_card) as tables a person reads.
// Loaded before app.js, which calls modelCardView(card) and uses its el() and pct();
// every value goes on the page as text (never as HTML), like the rest of the page.
"use strict";

function cardNum(v, digits) { return v === null || v === undefined ? "–" : Number(v).toFixed(digits); }
function cardPct(v) { return v === null || v === undefined ? "–" : pct(v); }

function cardTable(id, caption, headers, rows) {
  return el("table", { id, class: "card-table" },
    caption ? el("caption", { text: caption }) : null,
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, rows));
}

function rowOf(head, cells) {
  return el("tr", {}, el("th", { scope: "row", text: head }),
    cells.map(([text, cls]) => el("td", { class: cls || null, text: text ?? "–" })));
}

function dataNotice(card) {
  const data = card.training_data || {};
  const cls = data.synthetic ? "card-notice synthetic" : "card-notice";
  const facts = Object.entries(data.dataset_card || {}).map(([k, v]) => `${k}: ${v}`).join(" · ");
  return el("div", { id: "data-notice", class: cls, role: "note" },
    el("strong", { text: data.synthetic ? "Synthetic training data. " : "Training data. " }),
    data.notice || "This card does not say where the training history came from.",
    facts ? el("div", { class: "muted", text: `Dataset card — ${facts}` }) : null);
}

function factsTable(card) {
  const t = card.thresholds || {};
  const rows = [
    ["Model", `${card.model_name} version ${card.model_version}`],
    ["Trained", when(card.trained_at)],
    ["Feature set", card.feature_spec_version],
    ["Priority 1 from", t.p1 === undefined ? "–" : `probability ${cardPct(t.p1)}`],
    ["Priority 2 from", t.p2 === undefined ? "–" : `probability ${cardPct(t.p2)}`],
    ["Training run", card.run_id],
  ];
  return el("table", { id: "card-facts", class: "card-table" },
    el("tbody", {}, rows.map(([k, v]) => rowOf(k, [[v]]))));
}

function windowsTable(card) {
  const rows = (card.training_windows || []).map((w) => rowOf(
    w.label[0].toUpperCase() + w.label.slice(1), [[w.from || "–"], [w.to || "–"],
      [w.reports === null ? "–" : Number(w.reports).toLocaleString("en"), "num"]]));
  return cardTable("card-windows", "Receipt dates (UTC) of the reports in each window",
    ["Window", "From", "To", "Reports"], rows);
}

function metricsTable(card) {
  const rows = (card.metrics || []).map((m) => el("tr", { "data-key": m.key },
    el("th", { scope: "row", text: m.label }), el("td", { class: "num", text: m.display }),
    el("td", { class: "muted", text: m.meaning })));
  return cardTable("card-metrics", "Measured on the latest months, which the model did not learn from",
    ["Measure", "Value", "What it means"], rows);
}

function overridesTable(card) {
  const mine = card.analyst_decisions.this_model || {};
  const all = card.analyst_decisions.all_models || {};
  const cells = (r) => r && r.decided
    ? [[String(r.decided), "num"], [String(r.overridden), "num"], [cardPct(r.override_rate), "num"]]
    : [["0", "num"], ["–", "num"], ["–", "num"]];
  const keys = (field) => [...new Set([...Object.keys(mine[field] || {}), ...Object.keys(all[field] || {})])].sort();
  const rows = [rowOf("All decisions", [...cells(mine), ...cells(all)])];
  for (const p of keys("by_suggested_priority")) {
    rows.push(rowOf(`Suggested priority ${p}`, [...cells((mine.by_suggested_priority || {})[p]), ...cells((all.by_suggested_priority || {})[p])]));
  }
  for (const esp of keys("by_esp")) {
    rows.push(rowOf(`ESP: ${esp}`, [...cells((mine.by_esp || {})[esp]), ...cells((all.by_esp || {})[esp])]));
  }
  return cardTable("card-overrides", "How often analysts chose another priority than the one suggested",
    ["", "Decided (this model)", "Overridden", "Override rate", "Decided (all models)", "Overridden", "Override rate"], rows);
}

// Issue 21: agreement on blind vs shown reports, and time to decision per priority.
function reviewTables(card) {
  const out = [];
  const b = card.analyst_decisions.blind_review;
  if (b) {
    const cell = (r) => [[String(r.decided), "num"], [String(r.agreed), "num"], [r.agreement_rate === null ? "–" : cardPct(r.agreement_rate), "num"]];
    out.push(cardTable("card-blind", `Agreement with the suggestion, blind vs shown (gap ${b.gap === null ? "–" : cardPct(b.gap)}: how much analysts follow the model)`,
      ["", "Decided", "Kept the suggested priority", "Agreement"],
      [rowOf("Shown the suggestion", cell(b.shown)), rowOf("Blind review", cell(b.blind))]));
  }
  const t = card.analyst_decisions.time_to_decision;
  if (t) {
    const mins = (m) => (m === null ? "–" : `${m} min`);
    out.push(cardTable("card-time-to-decision", "Time from entering the queue to the first decision",
      ["Suggested priority", "Decided", "Median", "90th percentile", "Target", "Within target"],
      Object.entries(t).map(([p, r]) => rowOf(`Priority ${p}`, [[String(r.decided), "num"], [mins(r.median_minutes), "num"],
        [mins(r.p90_minutes), "num"], [mins(r.target_minutes), "num"], [r.within_target === null ? "–" : cardPct(r.within_target), "num"]]))));
  }
  return out;
}

function auditSection(card) {
  const a = card.bias_audit || {};
  const out = [el("p", { id: "audit-verdict", class: a.flags ? "card-flag" : "" },
    a.verdict ? `${a.verdict}.` : `Bias audit: ${a.status || "unknown"}.`)];
  if (a.how_to_read) out.push(el("p", { class: "muted", text: a.how_to_read }));
  for (const c of a.cautions || []) out.push(el("p", { class: "card-caution", role: "note", text: c }));
  if (a.reference_groups) {
    out.push(cardTable("card-references", "Each reference group's own figures (the ratios below are relative to these)",
      ["Attribute", "Reference group", "Share of reports", "Escalations", "P1 recall", "P1+P2 recall", "P1 precision"],
      a.reference_groups.map((r) => rowOf(r.attribute_label, [[r.group], [cardPct(r.share_of_reports), "num"],
        [String(r.escalations), "num"], [cardNum(r.recall_p1, 3), "num"], [cardNum(r.recall_p12, 3), "num"],
        [cardNum(r.precision_p1, 3), "num"]]))));
  }
  if (a.comparisons) {
    out.push(cardTable("card-comparisons", "Disparities judged: group vs reference",
      ["Attribute", "Group", "Measure", "Group", "Reference", "Ratio", "95% interval", "Status"],
      a.comparisons.map((c) => rowOf(c.attribute_label, [[c.group], [c.metric_label], [cardNum(c.group_value, 3), "num"],
        [`${cardNum(c.reference_value, 3)} (${c.reference})`, "num"], [cardNum(c.ratio, 2), "num"],
        [`${cardNum(c.ci_low, 2)} – ${cardNum(c.ci_high, 2)}`, "num"], [c.flagged ? "flagged" : "ok", c.flagged ? "card-flag" : ""]]))));
  }
  if (a.calibration) {
    out.push(el("p", { text: `Calibration error on the audited reports: ${cardNum(a.calibration.ece, 4)} over all, ` +
      `${cardNum(a.calibration.ece_above_p2, 4)} over P1 and P2 reports.` }));
  }
  if (a.promotion) out.push(el("p", { class: "muted", text: `Promotion: ${a.promotion}${a.promotion_reason ? ` — ${a.promotion_reason}` : ""}` }));
  return out;
}

function modelCardView(card) {
  return [
    dataNotice(card),
    factsTable(card),
    el("h2", { text: "Training windows" }), windowsTable(card),
    el("h2", { text: "How well it did on the test window" }), metricsTable(card),
    el("h2", { text: "Bias audit" }), ...auditSection(card),
    el("h2", { text: "Analysts' decisions on its suggestions" }), overridesTable(card),
    ...reviewTables(card),
  ];
}
