// Counselor console: live queue over server-sent events, actions with the CSRF token.
(function () {
  "use strict";
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const $ = (id) => document.getElementById(id);
  let selected = null;
  let known = new Set();
  let me = null;

  async function api(path, body) {
    const options = body === undefined ? {} : {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body),
    };
    const response = await fetch(path, options);
    if (response.status === 401) { window.location = "/console/login"; return null; }
    const data = await response.json();
    if (!response.ok) { showAlert(data.error || "That did not work."); return null; }
    return data;
  }

  function showAlert(text) {
    const alert = $("alert");
    alert.textContent = text;
    alert.hidden = false;
    setTimeout(() => { alert.hidden = true; }, 8000);
  }

  function beep() {
    try {
      const ctx = new AudioContext();
      const osc = ctx.createOscillator();
      osc.frequency.value = 880;
      osc.connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.4);
    } catch (e) { /* no audio: the banner still shows */ }
  }

  function minutes(seconds) {
    return seconds < 60 ? seconds + " s" : Math.floor(seconds / 60) + " min";
  }

  function button(label, handler) {
    const b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    b.addEventListener("click", handler);
    return b;
  }

  async function loadQueue() {
    const data = await api("/console/api/queue");
    if (!data) return;
    me = data.me;
    const list = $("queue");
    list.innerHTML = "";
    const fresh = new Set();
    for (const item of data.items) {
      fresh.add(item.id);
      if (!known.has(item.id) && known.size > 0 && item.level === "imminent") {
        beep();
        showAlert("New imminent risk: conversation #" + item.id);
      }
      const li = document.createElement("li");
      li.className = item.mine ? "mine" : "";
      li.dataset.id = item.id;
      const level = document.createElement("span");
      level.className = "level " + item.level;
      level.textContent = item.level;
      li.appendChild(level);
      const text = document.createElement("span");
      text.textContent = " #" + item.id + " " + (item.categories.join(", ") || item.reason) +
        " · waiting " + minutes(item.waiting_seconds) + " · " + item.status +
        (item.claimed_by ? " · " + item.claimed_by : "");
      li.appendChild(text);
      const row = document.createElement("div");
      if (item.status === "paged" || item.status === "open") {
        row.appendChild(button("Acknowledge", () => act(item.id, "ack")));
      }
      if (!item.claimed_by) row.appendChild(button("Claim", () => act(item.id, "claim")));
      row.appendChild(button("Open", () => openDetail(item.id)));
      li.appendChild(row);
      list.appendChild(li);
    }
    known = fresh;
    const select = $("transfer-to");
    select.innerHTML = "";
    for (const c of data.counselors) {
      const option = document.createElement("option");
      option.textContent = c.name;
      select.appendChild(option);
    }
  }

  async function act(id, action) {
    if (await api("/console/api/escalations/" + id + "/" + action, {})) {
      await loadQueue();
      if (action === "claim") await openDetail(id);
    }
  }

  async function openDetail(id) {
    const data = await api("/console/api/escalations/" + id);
    if (!data) return;
    selected = id;
    $("detail").hidden = false;
    $("detail-title").textContent = "Conversation #" + id + " · " + data.level + " · " + data.status;
    $("detail-meta").textContent = "Cues: " + (data.cues.join(", ") || "none") +
      ". First message: " + data.excerpt;
    const transcript = $("transcript");
    transcript.innerHTML = "";
    for (const m of data.messages) {
      const li = document.createElement("li");
      li.className = m.from;
      li.textContent = m.from + ": " + m.text;
      transcript.appendChild(li);
    }
    transcript.scrollTop = transcript.scrollHeight;
    const notes = $("notes");
    notes.innerHTML = "";
    for (const n of data.notes) {
      const li = document.createElement("li");
      li.textContent = n.text;
      notes.appendChild(li);
    }
  }

  $("reply").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("reply-text").value.trim();
    if (!text || selected === null) return;
    const key = Math.random().toString(36).slice(2);
    if (await api("/console/api/escalations/" + selected + "/messages", { text: text, client_key: key })) {
      $("reply-text").value = "";
      const li = document.createElement("li");
      li.className = "counselor";
      li.textContent = "counselor: " + text;
      $("transcript").appendChild(li);
    }
  });
  $("note").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = $("note-text").value.trim();
    if (text && await api("/console/api/escalations/" + selected + "/notes", { text: text })) {
      $("note-text").value = "";
      await openDetail(selected);
    }
  });
  $("article-q").addEventListener("change", async () => {
    const data = await api("/console/api/articles?q=" + encodeURIComponent($("article-q").value));
    const select = $("article-id");
    select.innerHTML = "";
    for (const a of (data && data.articles) || []) {
      const option = document.createElement("option");
      option.value = a.id;
      option.textContent = a.title;
      select.appendChild(option);
    }
  });
  $("article").addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = $("article-id").value;
    if (id && await api("/console/api/escalations/" + selected + "/article", { article_id: id })) {
      await openDetail(selected);
    }
  });
  $("transfer").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await api("/console/api/escalations/" + selected + "/transfer", { to: $("transfer-to").value })) {
      $("detail").hidden = true;
      await loadQueue();
    }
  });
  $("close").addEventListener("submit", async (event) => {
    event.preventDefault();
    if (await api("/console/api/escalations/" + selected + "/close", { disposition: $("disposition").value })) {
      $("detail").hidden = true;
      selected = null;
      await loadQueue();
    }
  });
  $("oncall").addEventListener("change", (event) => {
    api("/console/api/oncall", { on_call: event.target.checked });
  });

  function listen() {
    const source = new EventSource("/console/events");
    source.addEventListener("ready", () => { $("live").textContent = "live"; });
    const alerted = new Set();  // "escalation:step" already shown on this page
    source.addEventListener("page", (event) => {
      const data = JSON.parse(event.data);
      const key = data.escalation_id + ":" + data.step;
      // A page re-sent after a worker died ("redelivered") alerts only if unseen.
      const seen = alerted.has(key) && data.redelivered;
      alerted.add(key);
      if (me && data.counselor_id === me.id && !seen) {
        beep();
        showAlert("You are paged: conversation #" + data.escalation_id + " (" + data.level + ")");
      }
      loadQueue();
    });
    for (const type of ["escalation.created", "escalation.acknowledged", "handoff.started",
                        "handoff.ended", "handoff.transferred", "risk", "message"]) {
      source.addEventListener(type, (event) => {
        const data = JSON.parse(event.data);
        loadQueue();
        if (selected !== null && data.escalation_id === selected) openDetail(selected);
      });
    }
    source.onerror = () => { $("live").textContent = "reconnecting…"; };
  }

  loadQueue().then(listen);
  setInterval(loadQueue, 30000);
}());
