"use strict";
// The replay page: a timeline over one view's items (mafia/web/document.py). Everything shown
// is built with textContent, never innerHTML, so no text from a game can become markup.
(function () {
  const doc = JSON.parse(document.getElementById("game-data").textContent);
  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...kids) => {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") n.className = v; else if (k === "text") n.textContent = v;
      else n.setAttribute(k, v);
    }
    for (const k of kids) if (k != null) n.append(k);
    return n;
  };
  const LANES = [["public", "Public chat"], ["mafia", "Mafia channel"], ["dm", "Private messages"],
                 ["night", "Night actions"]];
  const IN_LANE = {public: ["public", "phase", "death", "vote", "end", "system"],
                   mafia: ["mafia"], dm: ["dm"], night: ["night"]};
  const state = {key: doc.order[0], step: -1, tab: "public", thread: null, day: null,
                 timer: null};
  const view = () => doc.views[state.key];
  const items = () => view().items;

  function sideClass(role) {  // sides come with the data (mafia/roles/), not listed here
    return doc.game.sides[role] || "";
  }

  // ---- header and view switch --------------------------------------------------------
  const g = doc.game, c = g.config;
  const counts = Object.entries(c.roles || {}).filter(([, n]) => n).map(([r, n]) => `${n} ${r}`);
  $("subtitle").textContent = `seed ${g.seed} · ${g.seats.length} players (${counts.join(", ")})` +
    ` · ${c.discussion} discussion · mafia v${g.version}`;
  if (doc.order.length > 1) {
    $("viewpick").hidden = false;
    for (const k of doc.order) $("view").append(el("option", {value: k, text: doc.views[k].label}));
    $("view").addEventListener("change", () => switchView($("view").value));
  }

  function switchView(key) {
    const seq = state.step >= 0 ? items()[state.step].seq : -1;
    state.key = key;
    let step = -1;  // the same moment of the game: the last item at or before it
    items().forEach((it, i) => { if (it.seq <= seq) step = i; });
    state.thread = null;
    go(step);
  }

  // ---- controls -------------------------------------------------------------------------
  const clampStep = (s) => Math.max(-1, Math.min(items().length - 1, s));
  function go(step) {
    state.step = clampStep(step);
    render();
  }
  function dayStarts() {
    return items().map((it, i) => [it, i]).filter(([it]) => it.lane === "phase").map(([, i]) => i);
  }
  function pause(next) {
    // In clock games, the gap between two messages of a day follows their simulated times
    // (four times faster than the game's clock at normal speed); otherwise a fixed pace.
    const base = Number($("speed").value), now = items()[state.step], then = items()[next];
    if (g.clock && now && then && now.t != null && then.t != null && now.day === then.day) {
      return Math.min(4 * base, Math.max(base / 4, (then.t - now.t) * base / 2.4));
    }
    return base;
  }
  function play(on) {
    if (on === undefined) on = state.timer === null;
    if (state.timer !== null) { clearTimeout(state.timer); state.timer = null; }
    if (on) {
      if (state.step >= items().length - 1) go(-1);
      const tick = () => {
        if (state.step >= items().length - 1) return play(false);
        go(state.step + 1);
        state.timer = setTimeout(tick, pause(state.step + 1));
      };
      state.timer = setTimeout(tick, pause(state.step + 1));
    }
    $("play").textContent = state.timer === null ? "▶ Play" : "⏸ Pause";
    $("play").setAttribute("aria-label", state.timer === null ? "Play" : "Pause");
  }
  $("first").onclick = () => go(-1);
  $("last").onclick = () => go(items().length - 1);
  $("back").onclick = () => go(state.step - 1);
  $("next").onclick = () => go(state.step + 1);
  $("play").onclick = () => play();
  $("prevday").onclick = () => {
    const before = dayStarts().filter((i) => i < state.step);
    go(before.length ? before[before.length - 1] : -1);
  };
  $("nextday").onclick = () => {
    const after = dayStarts().find((i) => i > state.step);
    go(after === undefined ? items().length - 1 : after);
  };
  $("speed").onchange = () => { if (state.timer !== null) play(true); };
  $("scrub").addEventListener("input", () => go(Number($("scrub").value) - 1));
  document.addEventListener("keydown", (ev) => {
    const tag = (ev.target.tagName || "").toLowerCase();
    if (tag === "select" || (tag === "input" && ev.target.type !== "range")) return;
    const keys = {ArrowRight: () => go(state.step + 1), ArrowLeft: () => go(state.step - 1),
                  Home: () => go(-1), End: () => go(items().length - 1),
                  PageUp: () => $("prevday").click(), PageDown: () => $("nextday").click(),
                  " ": () => play()};
    if (keys[ev.key] && !(tag === "button" && ev.key === " ")) {
      ev.preventDefault();
      keys[ev.key]();
    }
  });

  // ---- rendering --------------------------------------------------------------------------
  function known() {
    // What this view knows of each seat at this step: omniscient knows every role at once.
    const roles = {}, dead = {}, learned = {};
    items().forEach((it, i) => {
      if (i > state.step && !it.quiet) return;
      Object.assign(roles, it.reveal || {});
      Object.assign(learned, it.learned || {});
      if (it.dead && i <= state.step) dead[it.dead] = it;
    });
    return {roles, dead, learned};
  }

  function render() {
    const its = items(), k = known(), now = its[state.step];
    $("scrub").max = String(its.length);
    $("scrub").value = String(state.step + 1);
    const phase = now ? `${now.phase === "setup" ? "Setup" : now.phase === "end" ? "End" :
      (now.phase === "night" ? "Night " : "Day ") + now.day}` : "Before the game";
    $("where").textContent = `${phase} · step ${state.step + 1} of ${its.length}`;
    renderPlayers(k);
    renderChat(now);
    renderVotes();
  }

  function renderPlayers(k) {
    const ul = $("players");
    ul.replaceChildren();
    for (const p of g.players) {
      const role = k.roles[p.name] || k.learned[p.name];
      const dead = k.dead[p.name];
      const li = el("li", {class: dead ? "dead" : ""},
        el("span", {class: "pname", text: (dead ? "☠ " : "") + p.name}),
        role ? el("span", {class: `role ${sideClass(role)}`, text: ` (${role})`}) : null,
        el("span", {class: "agent",
                    text: [p.agent, p.profile ? `profile ${p.profile}` : null]
                      .filter(Boolean).join(" · ") +
                      (dead ? ` · ${dead.text.includes("voted") ? "voted out" : "killed"} day ${dead.day}` : "")}));
      ul.append(li);
    }
    const end = items().find((it, i) => it.lane === "end" && i <= state.step);
    $("outcome").hidden = !end;
    if (end) {
      $("outcome").replaceChildren(
        el("strong", {text: end.winner === "draw" ? "Draw" : `${end.winner} wins`}),
        el("div", {text: end.reason}));
    }
  }

  function laneOf(it) {
    for (const [lane, kinds] of Object.entries(IN_LANE)) if (kinds.includes(it.lane)) return lane;
    return null;
  }

  function line(it, isNow) {
    const li = el("li", {class: `${it.lane}${isNow ? " now" : ""}`});
    if (it.t != null && g.clock) li.append(el("span", {class: "t", text: `${it.t.toFixed(1)} s`}));
    if (it.who && (it.lane === "public" || it.lane === "mafia" || it.lane === "dm")) {
      li.append(el("span", {class: "who", text: it.who + (it.to ? ` → ${it.to}` : "")}));
      if (it.last) li.append(el("span", {class: "last", text: " (last words)"}));
      li.append(document.createTextNode(": " + it.text));
    } else if (it.lane === "vote") {
      li.append(document.createTextNode(it.eliminated ? `Vote: ${it.eliminated} is eliminated` +
        (it.tie ? " (tie broken at random)" : "") : "Vote: nobody is eliminated"));
    } else if (it.lane === "end") {
      li.append(document.createTextNode(`Game over: ${it.winner === "draw" ? "draw" :
        it.winner + " wins"} (${it.reason}).`));
    } else {
      li.append(document.createTextNode(it.text));
    }
    return li;
  }

  function renderChat(now) {
    const its = items().slice(0, state.step + 1).filter((it) => !it.quiet);
    const lanes = LANES.filter(([lane]) => items().some((it) => laneOf(it) === lane));
    if (!lanes.some(([lane]) => lane === state.tab)) state.tab = "public";
    const tabs = $("tabs");
    tabs.replaceChildren();
    for (const [lane, label] of lanes) {
      const fresh = now && laneOf(now) === lane && lane !== state.tab;
      const b = el("button", {role: "tab", id: `tab-${lane}`, "aria-controls": "panes",
                              "aria-selected": String(lane === state.tab),
                              tabindex: lane === state.tab ? "0" : "-1"},
                   label, fresh ? el("span", {class: "dot", text: " ●", "aria-label": "new"}) : null);
      b.onclick = () => { state.tab = lane; render(); };
      b.onkeydown = (ev) => {
        const i = lanes.findIndex(([l]) => l === lane);
        if (ev.key === "ArrowRight" || ev.key === "ArrowLeft") {
          ev.stopPropagation();
          const next = lanes[(i + (ev.key === "ArrowRight" ? 1 : lanes.length - 1)) % lanes.length][0];
          state.tab = next; render(); $(`tab-${next}`).focus();
        }
      };
      tabs.append(b);
    }
    const pane = el("div", {class: "pane", role: "tabpanel", "aria-labelledby": `tab-${state.tab}`,
                            tabindex: "0"});
    let shown = its.filter((it) => laneOf(it) === state.tab);
    if (state.tab === "dm") {
      const threads = [...new Set(items().filter((it) => it.lane === "dm").map((it) => it.thread))];
      if (!threads.includes(state.thread)) state.thread = threads[0] || null;
      const bar = el("div", {class: "threads", role: "group", "aria-label": "Conversations"});
      for (const t of threads) {
        const b = el("button", {"aria-pressed": String(t === state.thread), text: t});
        b.onclick = () => { state.thread = t; render(); };
        bar.append(b);
      }
      pane.append(bar);
      shown = shown.filter((it) => it.thread === state.thread);
    }
    const ol = el("ol");
    for (const it of shown) ol.append(line(it, it === now));
    pane.append(ol);
    $("panes").replaceChildren(pane);
    const cur = pane.querySelector("li.now");
    (cur || pane.lastElementChild || pane).scrollIntoView({block: "nearest"});
    const typing = now && now.lane === "typing" ? now.text + (now.to ? ` (a DM to ${now.to})` : "") : "";
    $("typing").textContent = typing;
  }

  function renderVotes() {
    const seq = state.step >= 0 ? items()[state.step].seq : -1;
    const done = view().votes.filter((v) => v.seq !== null && v.seq <= seq);
    const box = $("votebox"), days = $("votedays");
    days.replaceChildren();
    if (!done.length) {
      box.replaceChildren(el("p", {class: "muted", text: "No vote yet."}));
      return;
    }
    if (!done.some((v) => v.day === state.day) || state.autoDay !== done.length) {
      state.day = done[done.length - 1].day;  // follow the newest vote as the game advances
      state.autoDay = done.length;
    }
    for (const v of done) {
      const b = el("button", {"aria-pressed": String(v.day === state.day), text: `Day ${v.day}`});
      b.onclick = () => { state.day = v.day; renderVotes(); };
      days.append(b);
    }
    const v = done.find((d) => d.day === state.day);
    const table = el("table", {}, el("caption", {class: "sr-only", text: `Day ${v.day} votes`}),
      el("thead", {}, el("tr", {}, el("th", {scope: "col", text: "voter"}),
                         el("th", {scope: "col", text: "votes for"}))));
    const body = el("tbody");
    for (const [voter, target] of Object.entries(v.votes)) {
      body.append(el("tr", {}, el("td", {text: voter}), el("td", {text: target || "abstains"})));
    }
    table.append(body);
    const tally = Object.entries(v.tally).sort((a, b) => b[1] - a[1]).map(([n, k]) => `${n} ${k}`);
    box.replaceChildren(table,
      el("p", {text: `Tally: ${tally.join(", ") || "no votes"}. ` +
        (v.eliminated ? `${v.eliminated} is eliminated.` : "Nobody is eliminated.")}),
      graph(v), el("p", {class: "legend",
        text: "Arrows: solid, a vote; dashed, an accusation in public chat that day."}));
  }

  function graph(v) {
    const ns = "http://www.w3.org/2000/svg", names = g.seats, n = names.length;
    const W = 260, R = 95, cx = W / 2, cy = W / 2;
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", `0 0 ${W} ${W}`);
    svg.setAttribute("class", "graph");
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", `Day ${v.day}: who voted for and accused whom`);
    const pos = {};
    names.forEach((p, i) => {
      const a = -Math.PI / 2 + 2 * Math.PI * i / n;
      pos[p] = [cx + R * Math.cos(a), cy + R * Math.sin(a)];
    });
    const defs = document.createElementNS(ns, "defs");
    defs.innerHTML = '<marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" ' +
      'markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="currentColor"/></marker>';
    svg.append(defs);
    const edge = (a, b, cls) => {
      if (!pos[a] || !pos[b] || a === b) return;
      const [x1, y1] = pos[a], [x2, y2] = pos[b], d = Math.hypot(x2 - x1, y2 - y1) || 1;
      const s = 12 / d, path = document.createElementNS(ns, "line");
      path.setAttribute("x1", x1 + (x2 - x1) * s); path.setAttribute("y1", y1 + (y2 - y1) * s);
      path.setAttribute("x2", x2 - (x2 - x1) * s); path.setAttribute("y2", y2 - (y2 - y1) * s);
      path.setAttribute("class", cls); path.setAttribute("marker-end", "url(#arrow)");
      svg.append(path);
    };
    for (const [a, b] of v.accused.filter((x) => x[2] <= v.seq)) edge(a, b, "accuse");
    for (const [a, b] of Object.entries(v.votes)) if (b) edge(a, b, "vote");
    for (const p of names) {
      const [x, y] = pos[p], dot = document.createElementNS(ns, "circle");
      dot.setAttribute("cx", x); dot.setAttribute("cy", y); dot.setAttribute("r", 9);
      if (p === v.eliminated) dot.setAttribute("class", "out");
      const label = document.createElementNS(ns, "text");
      label.setAttribute("x", x); label.setAttribute("y", y + (y < cy ? -13 : 21));
      label.setAttribute("text-anchor", "middle");
      label.textContent = p;
      svg.append(dot, label);
    }
    return svg;
  }

  // A link may name a view and a step: #view=Alice&step=120 (or step=end).
  const want = new URLSearchParams(location.hash.slice(1));
  if (want.get("view") && doc.views[want.get("view")]) {
    state.key = want.get("view");
    if (doc.order.length > 1) $("view").value = state.key;
  }
  const at = want.get("step");
  go(at === "end" ? items().length - 1 : at ? Number(at) - 1 : -1);
  window.mafiaReplay = {go, play, switchView, state, doc};  // for tests and the curious
})();
