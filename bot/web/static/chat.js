// Web chat client: one random session token per browser tab (sessionStorage, so
// it ends with the tab), messages retried with the same id so none is lost or
// answered twice, and a quick exit that wipes the page and leaves.
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const exitButton = document.getElementById("exit");

  function randomToken(bytes) {
    const a = new Uint8Array(bytes);
    crypto.getRandomValues(a);
    return Array.from(a, (b) => b.toString(16).padStart(2, "0")).join("");
  }
  let session = sessionStorage.getItem("hl-session");
  if (!session) {
    session = randomToken(24);
    sessionStorage.setItem("hl-session", session);
  }

  function quickExit() {
    try { sessionStorage.clear(); } catch (e) { /* ignore */ }
    document.body.innerHTML = "";
    window.location.replace(exitButton.dataset.url);
  }
  exitButton.addEventListener("click", quickExit);
  let escapes = [];
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const now = Date.now();
    escapes = escapes.filter((t) => now - t < 1500).concat(now);
    if (escapes.length >= 3) quickExit();
  });

  function show(text, who, choices) {
    const item = document.createElement("li");
    item.className = who;
    item.textContent = text;
    if (choices && choices.length) {
      const row = document.createElement("div");
      row.className = "choices";
      for (const choice of choices) {
        const b = document.createElement("button");
        b.type = "button";
        b.textContent = choice.label;
        b.addEventListener("click", () => send(choice.value, choice.label));
        row.appendChild(b);
      }
      item.appendChild(row);
    }
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  async function post(frame, attempt) {
    try {
      const response = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(frame),
      });
      const body = await response.json();
      if (response.status >= 500 && attempt < 5) {
        (body.replies || []).forEach((r) => show(r.text, "bot", r.choices));
        await new Promise((r) => setTimeout(r, 2000 * (attempt + 1)));
        return post(frame, attempt + 1);
      }
      return body;
    } catch (error) {
      if (attempt < 5) {
        await new Promise((r) => setTimeout(r, 2000 * (attempt + 1)));
        return post(frame, attempt + 1);
      }
      return { replies: [{ text: "Connection lost. / Se perdió la conexión.", choices: [] }] };
    }
  }

  async function send(text, shown) {
    show(shown || text, "me");
    const body = await post({ session: session, id: randomToken(12), text: text }, 0);
    if (body.exit) { quickExit(); return; }
    (body.replies || []).forEach((r) => show(r.text, "bot", r.choices));
    document.documentElement.lang = body.locale || "en";
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  // Messages the service starts (a counselor's words) arrive by polling.
  async function poll() {
    try {
      const response = await fetch("/api/chat/updates?session=" + encodeURIComponent(session));
      if (response.ok) {
        const body = await response.json();
        (body.messages || []).forEach((m) => show(m.text, "bot counselor"));
      }
    } catch (error) { /* offline: try again next time */ }
    setTimeout(poll, 3000);
  }
  setTimeout(poll, 3000);

  // Open the conversation without showing a user line: the bot speaks first.
  post({ session: session, id: randomToken(12), text: "/start" }, 0).then((body) => {
    (body.replies || []).forEach((r) => show(r.text, "bot", r.choices));
  });
}());
