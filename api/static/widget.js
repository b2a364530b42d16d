/*! Verbatim chat widget: answers quoted from your documents, with their sources.
 *
 * Embed:  <script src="https://HOST/widget.js" data-endpoint="https://HOST" defer></script>
 * Options (data- attributes on that script tag, all optional):
 *   data-endpoint    the Verbatim server (default: where this script came from)
 *   data-title       panel heading                      data-greeting  first message
 *   data-position    "right" (default) or "left"        data-color     accent colour (any CSS colour)
 *   data-open        "true" opens the panel on load     data-collection  which collection to ask
 *   data-top-k       answers per question (default 3)
 *   data-filters     JSON object: answer only from the documents it matches, as /ask's "filters",
 *                    e.g. '{"path": "upload:guide-", "type": "md", "metadata": {"lang": "en"}}'
 *   data-min-score   the score an answer needs (0 to 1), instead of the collection's threshold
 *   data-answer-unit "span" (the shortest words that answer) or "sentence" (their whole
 *                    sentence(s)), instead of the server's default
 *
 * Design notes. Self-contained: no framework, no build step, no request to any host but the
 * endpoint. Everything lives in an open Shadow DOM under a custom element, so host CSS cannot
 * reach in (inherited properties are reset at the root) and ours cannot leak out. Every piece of
 * text from the server is put in the page with textContent / createTextNode, never as HTML: a
 * document that contains markup shows it as characters. Follow-up questions are resolved by the
 * server (POST /chat gets the whole conversation), so the widget stays a thin view.
 *
 * Feedback: each reply has thumbs up / down (POST /feedback). On a thumbs-down the user may
 * select the right words in an expanded passage; the selection becomes document offsets by
 * counting characters within the passage's text (which is `context`, starting at
 * `context_start`), never by searching for the words.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) {
    var all = document.querySelectorAll('script[src*="widget.js"]');
    script = all[all.length - 1];
  }
  var data = (script && script.dataset) || {};
  var scriptOrigin = script && script.src ? new URL(script.src, location.href).origin : location.origin;
  var opts = {
    endpoint: (data.endpoint || scriptOrigin).replace(/\/+$/, ""),
    title: data.title || "Ask the documents",
    greeting: data.greeting || "Ask a question. Answers are quoted word for word from the documents, with their source.",
    position: data.position === "left" ? "left" : "right",
    color: data.color && window.CSS && CSS.supports("color", data.color) ? data.color : "#1d4ed8",
    open: data.open === "true" || data.open === "",
    collection: data.collection || undefined, // none: the server's default collection
    topK: Math.min(Math.max(parseInt(data.topK, 10) || 3, 1), 10),
    filters: parseFilters(data.filters), // none: every document of the collection
    minScore: parseScore(data.minScore), // none: the collection's own threshold
    answerUnit: parseUnit(data.answerUnit) // none: the server's default (QA_ANSWER_UNIT)
  };
  var STORE_KEY = "verbatim-chat:" + opts.endpoint + ":" + (opts.collection || "") + (opts.filters ? ":" + data.filters : "");
  // Options that are not what they should be are left out (the server's defaults apply), with a
  // warning for the page's author; the values only ever travel in the request body, as JSON.
  function parseFilters(text) {
    if (!text) return undefined;
    try {
      var value = JSON.parse(text);
      if (value && typeof value === "object" && !Array.isArray(value)) return value;
    } catch (e) { /* reported below */ }
    if (window.console) console.warn("Verbatim widget: data-filters must be a JSON object; ignored");
    return undefined;
  }

  function parseScore(text) {
    if (text === undefined || text === "") return undefined;
    var value = Number(text);
    if (isFinite(value) && value >= 0 && value <= 1) return value;
    if (window.console) console.warn("Verbatim widget: data-min-score must be a number from 0 to 1; ignored");
    return undefined;
  }

  function parseUnit(text) {
    if (text === undefined || text === "") return undefined;
    if (text === "span" || text === "sentence") return text;
    if (window.console) console.warn("Verbatim widget: data-answer-unit must be \"span\" or \"sentence\"; ignored");
    return undefined;
  }

  var MAX_KEPT = 40; // entries kept in sessionStorage; the server sees at most the last 12 messages
  var uid = Math.random().toString(36).slice(2, 8);

  var CSS_TEXT = [
    ":host{all:initial}",
    ".vb{all:initial;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#111827;",
    "  --accent:#1d4ed8;direction:ltr;text-align:left}",
    ":where(.vb *){box-sizing:border-box;font:inherit;color:inherit;margin:0;padding:0}", // zero specificity
    ".vb [hidden]{display:none!important}",
    ".launcher{position:fixed;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;cursor:pointer;",
    "  background:var(--accent);color:#fff;display:flex;align-items:center;justify-content:center;",
    "  box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000}",
    ".launcher svg{width:26px;height:26px;fill:none;stroke:#fff;stroke-width:2}",
    ".right .launcher{right:20px}.left .launcher{left:20px}",
    ".panel{position:fixed;bottom:88px;width:min(400px,calc(100vw - 24px));height:min(600px,calc(100vh - 108px));",
    "  display:flex;flex-direction:column;background:#fff;border-radius:14px;overflow:hidden;",
    "  box-shadow:0 10px 40px rgba(0,0,0,.28);border:1px solid #d1d5db;z-index:2147483000}",
    ".right .panel{right:20px}.left .panel{left:20px}",
    "@media (max-width:480px){.right .panel,.left .panel{left:8px;right:8px;width:auto;bottom:80px;top:8px;height:auto}",
    "  .launcher{bottom:12px}.right .launcher{right:12px}.left .launcher{left:12px}}",
    "header{display:flex;align-items:center;gap:8px;padding:10px 12px;background:var(--accent);color:#fff}",
    "h2{flex:1;font-weight:600;font-size:16px}",
    ".icon{border:0;background:transparent;cursor:pointer;width:32px;height:32px;border-radius:6px;",
    "  display:flex;align-items:center;justify-content:center;font-size:20px;color:#fff}",
    ".icon:hover{background:rgba(255,255,255,.18)}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:10px;background:#f9fafb}",
    ".msg{max-width:92%;padding:8px 11px;border-radius:12px;overflow-wrap:anywhere;white-space:pre-wrap}",
    ".user{align-self:flex-end;background:var(--accent);color:#fff;border-bottom-right-radius:4px}",
    ".bot{align-self:flex-start;background:#fff;border:1px solid #e5e7eb;border-bottom-left-radius:4px}",
    ".answer{font-weight:600}",
    ".meta{font-size:12.5px;color:#4b5563;margin-top:4px}",
    ".conf{display:inline-flex;align-items:center;gap:5px}",
    ".dot{width:8px;height:8px;border-radius:50%;background:#9ca3af;display:inline-block}",
    ".high .dot{background:#15803d}.medium .dot{background:#b45309}.low .dot{background:#b91c1c}",
    ".label{font-size:12.5px;color:#4b5563;margin-top:8px}",
    ".chips{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".chip{border:1px solid #c7cdd6;background:#f3f4f6;border-radius:10px;padding:4px 10px;font-size:12.5px;",
    "  cursor:pointer;text-align:left;max-width:100%;overflow-wrap:anywhere}",
    ".chip .s{font-weight:600}",
    ".chip[aria-expanded=true]{background:#e0e7ff;border-color:var(--accent)}",
    ".passage{margin-top:6px;padding:8px 10px;border-left:3px solid var(--accent);background:#f9fafb;",
    "  font-size:13.5px;white-space:normal;overflow-wrap:anywhere;max-height:220px;overflow-y:auto}",
    ".passage .where{display:block;font-size:12px;color:#4b5563;margin-bottom:4px;white-space:normal}",
    ".passage .open{display:inline-block;margin-top:6px;font-size:12.5px;color:var(--accent);text-decoration:underline}",
    ".rate{display:flex;flex-wrap:wrap;gap:6px;align-items:center;margin-top:8px;font-size:12.5px;color:#4b5563}",
    ".rate button,.fix button{border:1px solid #c7cdd6;background:#fff;border-radius:8px;padding:2px 9px;cursor:pointer}",
    ".rate button[aria-pressed=true]{background:#e0e7ff;border-color:var(--accent)}",
    ".rate button:disabled,.fix button:disabled{opacity:.6;cursor:default}",
    ".fix{margin-top:6px;padding:8px;border:1px dashed #9ca3af;border-radius:8px;font-size:12.5px;display:flex;",
    "  flex-direction:column;gap:6px;align-items:flex-start}",
    ".fix .picked{font-style:italic;overflow-wrap:anywhere}",
    "mark{background:#fde68a;color:#111827;padding:0 1px;border-radius:2px;font-weight:600}",
    ".error{border-color:#fca5a5;background:#fef2f2;color:#7f1d1d}",
    ".thinking{color:#4b5563;font-style:italic}",
    ".thinking::after{content:'';display:inline-block;width:1.2em;text-align:left;animation:vbdots 1.2s steps(4) infinite}",
    "@keyframes vbdots{0%{content:''}25%{content:'.'}50%{content:'..'}75%{content:'...'}}",
    "@media (prefers-reduced-motion:reduce){.thinking::after{animation:none;content:'...'}}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e7eb;background:#fff}",
    "input{flex:1;min-width:0;border:1px solid #9ca3af;border-radius:8px;padding:8px 10px;background:#fff}",
    ".send{border:0;border-radius:8px;padding:8px 14px;background:var(--accent);color:#fff;cursor:pointer;font-weight:600}",
    ".send:disabled{opacity:.55;cursor:progress}",
    ".foot{font-size:11.5px;color:#6b7280;text-align:center;padding:0 10px 8px;background:#fff}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "button:focus-visible,input:focus-visible,.log:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}"
  ].join("\n");

  /** Build an element. Children are nodes or strings; strings always become text nodes. */
  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") el.textContent = attrs[k];
      else if (k === "hidden") el.hidden = !!attrs[k];
      else el.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return el;
  }

  function chatIcon() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("d", "M4 5h16v11H9l-5 4z");
    path.setAttribute("stroke-linejoin", "round");
    svg.appendChild(path);
    return svg;
  }

  // --- the shell --------------------------------------------------------------------------------
  var host = document.createElement("verbatim-chat");
  // Inline !important beats any host rule such as `* { all: unset }` or `verbatim-chat {display:none}`.
  ["all:initial", "display:block", "position:static", "visibility:visible", "opacity:1"].forEach(function (d) {
    var kv = d.split(":");
    host.style.setProperty(kv[0], kv[1], "important");
  });
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = CSS_TEXT;
  var ids = { panel: "vb-panel-" + uid, title: "vb-title-" + uid, input: "vb-input-" + uid };

  var launcher = h("button", {
    type: "button", "class": "launcher", "aria-label": "Open chat: " + opts.title,
    "aria-expanded": "false", "aria-controls": ids.panel
  }, [chatIcon()]);
  var closeBtn = h("button", { type: "button", "class": "icon", "aria-label": "Close chat", text: "\u00d7" });
  var log = h("div", { "class": "log", role: "log", "aria-live": "polite", "aria-label": "Conversation", tabindex: "0" });
  var input = h("input", {
    id: ids.input, type: "text", role: "textbox", autocomplete: "off", maxlength: "1000",
    placeholder: "Ask a question\u2026", "aria-label": "Your question", enterkeyhint: "send"
  });
  var send = h("button", { type: "submit", "class": "send", text: "Send" });
  var form = h("form", { "aria-label": "Ask a question" }, [
    h("label", { "class": "sr", "for": ids.input, text: "Your question" }), input, send
  ]);
  var panel = h("section", {
    id: ids.panel, "class": "panel", role: "dialog", "aria-modal": "false", "aria-labelledby": ids.title, hidden: true
  }, [
    h("header", {}, [h("h2", { id: ids.title, text: opts.title }), closeBtn]),
    log, form,
    h("p", { "class": "foot", text: "Answers are the documents' own words. Check the source." })
  ]);
  var wrap = h("div", { "class": "vb " + opts.position }, [launcher, panel]);
  wrap.style.setProperty("--accent", opts.color);
  root.appendChild(style);
  root.appendChild(wrap);

  // --- state --------------------------------------------------------------------------------------
  var entries = loadEntries(); // [{role:"user", text}, {role:"bot", body}, {role:"error", text}]
  var pending = false;

  function loadEntries() {
    try {
      var saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || "[]");
      return Array.isArray(saved) ? saved : [];
    } catch (e) {
      return [];
    }
  }

  function saveEntries() {
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify(entries.slice(-MAX_KEPT)));
    } catch (e) { /* storage full or blocked: the history still lives for this page */ }
  }

  /** The conversation the server resolves follow-ups against: questions and the answers given. */
  function messagesFor(question) {
    var out = [];
    entries.forEach(function (e, i) {
      var next = entries[i + 1];
      if (e.role === "user" && next && next.role === "bot") {
        out.push({ role: "user", content: e.text });
        if (next.body.answer) out.push({ role: "assistant", content: next.body.answer });
      }
    });
    out.push({ role: "user", content: question });
    return out.slice(-12);
  }

  // --- rendering (text only) ------------------------------------------------------------------------
  function confidence(score) {
    if (score >= 0.7) return ["high", "High confidence"];
    if (score >= 0.4) return ["medium", "Medium confidence"];
    return ["low", "Low confidence \u2014 check the source"];
  }

  /** The passage, with the answer's exact words marked: offsets are document offsets. */
  function passageView(src, highlight, id) {
    var ctx = src.context || "";
    var base = typeof src.context_start === "number" ? src.context_start : 0;
    var lo = Math.max(0, Math.min(ctx.length, src.start - base));
    var hi = Math.max(lo, Math.min(ctx.length, src.end - base));
    var place = src.section && src.section !== src.title ? [src.title, src.section] : [src.title];
    var where = h("span", { "class": "where", text: place.filter(Boolean).join(" \u203a ") });
    var words = [ctx.slice(0, lo)];
    if (highlight && hi > lo) words.push(h("mark", { text: ctx.slice(lo, hi) }));
    else words.push(ctx.slice(lo, hi));
    words.push(ctx.slice(hi));
    // .ctx holds exactly `context`: a selection inside it maps to document offsets (selectedWords)
    var parts = [where, h("span", { "class": "ctx", "data-doc": src.doc_id || "", "data-base": String(base) }, words)];
    var href = viewHref(src.view_url);
    if (href) parts.push(h("br"), h("a", { "class": "open", href: href, target: "_blank", rel: "noopener" }, ["Open in document"]));
    return h("blockquote", { "class": "passage", id: id, hidden: true }, parts);
  }

  /** The document view's address, resolved against the endpoint; only http(s) links are made. */
  function viewHref(url) {
    if (typeof url !== "string" || !url) return null;
    try {
      var u = new URL(url, opts.endpoint + "/");
      return u.protocol === "http:" || u.protocol === "https:" ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  function chip(src, n, highlight) {
    var id = "vb-src-" + uid + "-" + Math.random().toString(36).slice(2, 8);
    var title = src.title || "Document";
    var section = src.section && src.section !== src.title ? src.section : "";
    var label = section ? title + " \u00b7 " + section : title;
    var button = h("button", {
      type: "button", "class": "chip", "aria-expanded": "false", "aria-controls": id,
      "aria-label": "Source " + n + ": " + label + ". Show the passage"
    }, [n + ". " + title].concat(section ? [" \u00b7 ", h("span", { "class": "s", text: section })] : []));
    var view = passageView(src, highlight, id);
    button.addEventListener("click", function () {
      var open = view.hidden;
      view.hidden = !open;
      button.setAttribute("aria-expanded", String(open));
      if (open) view.scrollIntoView({ block: "nearest" });
    });
    return [button, view];
  }

  /** The citations of an answer: every supporting passage when the server lists them. */
  function citations(answer) {
    return Array.isArray(answer.sources) && answer.sources.length ? answer.sources : [answer.source || {}];
  }

  /** One chip per distinct passage, in order; each marks the first cited words found in it. */
  function sources(list, highlight) {
    var chips = h("div", { "class": "chips" });
    var views = h("div", {});
    var seen = {};
    list.forEach(function (src) {
      var key = src.passage_id || src.context || Math.random();
      if (seen[key]) return;
      seen[key] = true;
      var pair = chip(src, chips.children.length + 1, highlight);
      chips.appendChild(pair[0]);
      views.appendChild(pair[1]);
    });
    return [chips, views];
  }

  function botView(body) {
    var answers = Array.isArray(body.answers) ? body.answers : [];
    var el = h("div", { "class": "msg bot" });
    if (body.query && body.question && body.query !== body.question) {
      el.appendChild(h("div", { "class": "meta understood", text: "Understood as: \u201c" + body.query + "\u201d" }));
    }
    if (body.answer) {
      var best = answers.length ? answers[0].score : 0;
      var c = confidence(best);
      el.appendChild(h("div", { "class": "answer", text: body.answer }));
      el.appendChild(h("div", { "class": "meta conf " + c[0], title: "score " + best }, [
        h("span", { "class": "dot", "aria-hidden": "true" }), c[1]
      ]));
      if (answers.length) {
        var cited = citations(answers[0]);
        el.appendChild(h("div", { "class": "label", text: cited.length > 1 ? "Sources:" : "Source:" }));
        sources(cited, true).forEach(function (n) { el.appendChild(n); });
      }
      var others = answers.slice(1).map(function (a) { return "\u201c" + a.text + "\u201d"; });
      if (others.length) el.appendChild(h("div", { "class": "meta others", text: "Other candidates: " + others.join(", ") }));
    } else {
      el.appendChild(h("div", { "class": "answer abstain", text: "I could not find an answer to that in the documents." }));
      if (answers.length) {
        el.appendChild(h("div", { "class": "label", text: "Related passages (not answers):" }));
        sources(answers.map(function (a) { return a.source || {}; }), false).forEach(function (n) { el.appendChild(n); });
      }
    }
    el.appendChild(ratingView(body, el));
    return el;
  }

  // --- feedback ------------------------------------------------------------------------------------
  var picked = null; // the last words selected inside a passage: {doc_id, start, end, text}

  function ctxOf(node) {
    for (; node && node !== root; node = node.parentNode) {
      if (node.classList && node.classList.contains("ctx")) return node;
    }
    return null;
  }

  /** Characters of `ctx` before the point (node, offset): a Range counts text nodes exactly. */
  function charsBefore(ctx, node, offset) {
    var r = document.createRange();
    r.setStart(ctx, 0);
    r.setEnd(node, offset);
    return r.toString().length;
  }

  /** The selection as document offsets, or null unless it lies within one passage. */
  function selectedWords() {
    var sel = root.getSelection ? root.getSelection() : document.getSelection();
    if (!sel || !sel.rangeCount || sel.isCollapsed) return null;
    var range = sel.getRangeAt(0);
    var ctx = ctxOf(range.startContainer);
    if (!ctx || ctx !== ctxOf(range.endContainer)) return null;
    var text = ctx.textContent;
    var lo = charsBefore(ctx, range.startContainer, range.startOffset);
    var hi = charsBefore(ctx, range.endContainer, range.endOffset);
    while (lo < hi && /\s/.test(text.charAt(lo))) lo++;
    while (hi > lo && /\s/.test(text.charAt(hi - 1))) hi--;
    if (hi <= lo) return null;
    var base = parseInt(ctx.getAttribute("data-base"), 10) || 0;
    return { doc_id: ctx.getAttribute("data-doc"), start: base + lo, end: base + hi, text: text.slice(lo, hi), ctx: ctx };
  }

  // Kept as it changes, so a click that moves the focus cannot lose it; shown in its reply's panel.
  document.addEventListener("selectionchange", function () {
    var words = selectedWords();
    if (!words) return;
    picked = words;
    var reply = words.ctx.parentNode;
    while (reply && !(reply.classList && reply.classList.contains("msg"))) reply = reply.parentNode;
    var note = reply && reply.querySelector(".fix:not([hidden]) .picked");
    if (note) note.textContent = "Selected: \u201c" + words.text + "\u201d";
  });

  function sendFeedback(payload, status, done) {
    status.textContent = "Sending\u2026";
    fetch(opts.endpoint + "/feedback", {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload)
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (body) {
        if (!r.ok) { status.textContent = errorText(r.status, body); return; }
        status.textContent = "Thank you: your feedback was recorded.";
        done();
      });
    }, function () {
      status.textContent = "Sorry, the feedback could not be sent.";
    });
  }

  /** Thumbs up / down under a reply; a thumbs-down offers to send the right words. */
  function ratingView(body, el) {
    var answers = Array.isArray(body.answers) ? body.answers : [];
    var top = body.answer && answers.length ? answers[0] : null;
    var shown = top && top.source ? { text: top.text, doc_id: top.source.doc_id, start: top.source.start, end: top.source.end } : null;
    var base = { question: body.query || body.question || "", collection: opts.collection, answer: shown };
    var status = h("span", { "class": "fb-status", role: "status" });
    var up = h("button", { type: "button", "class": "up", "aria-label": "Good answer", "aria-pressed": "false", text: "\ud83d\udc4d" });
    var down = h("button", { type: "button", "class": "down", "aria-label": "Wrong answer", "aria-pressed": "false", text: "\ud83d\udc4e" });
    var note = h("span", { "class": "picked", text: "Select the right words in a passage above, then send them." });
    var sendPick = h("button", { type: "button", text: "Send the selected words" });
    var noPick = h("button", { type: "button", text: "Send without a correction" });
    var shouldAbstain = h("button", { type: "button", text: "It should not have answered", hidden: !shown });
    var fix = h("div", { "class": "fix", hidden: true }, [note, sendPick, noPick, shouldAbstain]);
    var all = [up, down, sendPick, noPick, shouldAbstain];
    function finish() { all.forEach(function (b) { b.disabled = true; }); fix.hidden = true; }
    function send(verdict, correction) {
      sendFeedback(Object.assign({}, base, { verdict: verdict }, correction ? { correction: correction } : {}), status, finish);
    }
    // a mousedown on these buttons must not clear the selection they are about to send
    [sendPick, noPick, shouldAbstain].forEach(function (b) {
      b.addEventListener("mousedown", function (ev) { ev.preventDefault(); });
    });
    up.addEventListener("click", function () { up.setAttribute("aria-pressed", "true"); send("correct"); });
    down.addEventListener("click", function () {
      down.setAttribute("aria-pressed", "true");
      up.disabled = down.disabled = true;
      fix.hidden = false;
      picked = null;
      var chip = el.querySelector(".chip[aria-expanded=false]");
      if (chip && !el.querySelector(".chip[aria-expanded=true]")) chip.click(); // show a passage to select in
    });
    sendPick.addEventListener("click", function () {
      var words = selectedWords() || picked;
      if (!words || !el.contains(words.ctx)) {
        status.textContent = "First select the right words in one of this answer's passages.";
        return;
      }
      send("wrong", { doc_id: words.doc_id, start: words.start, end: words.end });
    });
    noPick.addEventListener("click", function () { send("wrong"); });
    shouldAbstain.addEventListener("click", function () { send("should_abstain"); });
    return h("div", { "class": "rate" }, [h("span", { text: "Was this right?" }), up, down, status, fix]);
  }

  function render(entry) {
    var el;
    if (entry.role === "user") el = h("div", { "class": "msg user", text: entry.text });
    else if (entry.role === "bot") el = botView(entry.body || {});
    else el = h("div", { "class": "msg bot error", role: "alert", text: entry.text });
    log.appendChild(el);
    log.scrollTop = log.scrollHeight;
    return el;
  }

  // --- talking to the server ------------------------------------------------------------------------
  function errorText(status, body) {
    var detail = body && body.detail;
    if (Array.isArray(detail)) detail = detail.map(function (d) { return d && d.msg ? d.msg : String(d); }).join("; ");
    if (typeof detail !== "string" || !detail) detail = "the server answered with status " + status;
    return "Sorry, that did not work: " + detail;
  }

  function ask(question) {
    question = (question || "").trim();
    if (!question || pending) return;
    var messages = messagesFor(question);
    var userEntry = { role: "user", text: question };
    entries.push(userEntry);
    render(userEntry);
    setPending(true);
    var thinking = h("div", { "class": "msg bot thinking", role: "status", text: "Thinking" });
    log.appendChild(thinking);
    log.scrollTop = log.scrollHeight;
    var ctrl = window.AbortController ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctrl) ctrl.abort(); }, 60000);
    fetch(opts.endpoint + "/chat", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        messages: messages, top_k: opts.topK, collection: opts.collection, filters: opts.filters, min_score: opts.minScore,
        answer_unit: opts.answerUnit
      }),
      signal: ctrl ? ctrl.signal : undefined
    }).then(function (r) {
      return r.json().catch(function () { return null; }).then(function (body) {
        if (!r.ok || !body) return { role: "error", text: errorText(r.status, body) };
        return { role: "bot", body: body };
      });
    }, function (err) {
      var text = err && err.name === "AbortError"
        ? "Sorry, the server took too long to answer. Please try again."
        : "Sorry, the server at " + opts.endpoint + " could not be reached. Please try again.";
      return { role: "error", text: text };
    }).then(function (entry) {
      clearTimeout(timer);
      thinking.remove();
      if (entry.role === "error") entries.pop(); // a failed question is not part of the conversation
      else entries.push(entry);
      render(entry);
      saveEntries();
      setPending(false);
    });
  }

  function setPending(on) {
    pending = on;
    send.disabled = on;
    log.setAttribute("aria-busy", String(on));
  }

  // --- open, close, keys ------------------------------------------------------------------------------
  function openPanel() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    launcher.setAttribute("aria-label", "Close chat: " + opts.title);
    log.scrollTop = log.scrollHeight;
    input.focus();
  }

  function closePanel() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.setAttribute("aria-label", "Open chat: " + opts.title);
    launcher.focus();
  }

  launcher.addEventListener("click", function () { (panel.hidden ? openPanel : closePanel)(); });
  closeBtn.addEventListener("click", closePanel);
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var q = input.value;
    if (!q.trim() || pending) return;
    input.value = "";
    ask(q);
  });
  wrap.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape" && !panel.hidden) {
      ev.preventDefault();
      closePanel();
    }
  });

  log.appendChild(h("div", { "class": "msg bot greeting", text: opts.greeting }));
  entries.forEach(render);

  function mount() {
    document.body.appendChild(host);
    if (opts.open) openPanel();
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);

  /** A small API for the host page: Verbatim.open(), Verbatim.close(), Verbatim.ask("...") */
  window.Verbatim = {
    open: openPanel,
    close: closePanel,
    ask: function (q) { openPanel(); ask(q); },
    clear: function () { entries = []; saveEntries(); while (log.children.length > 1) log.removeChild(log.lastChild); }
  };
})();
