// Forum Desk: small progressive enhancements. Loaded as a file (no inline script: strict CSP).
// Styles that stand in for scripts (the language menu opening on focus) apply only without them.
document.documentElement.classList.add("js");
document.addEventListener("DOMContentLoaded", () => {
  // Buttons that ask before acting: <button data-confirm="Are you sure?">.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (event) => {
      if (!window.confirm(el.dataset.confirm)) event.preventDefault();
    });
  });
  // Copy buttons: <button data-copy="ID" data-copied="…" data-copy-failed="…" hidden> copies the text of
  // element ID. Hidden until this script shows it (only where the browser offers a clipboard): without
  // JavaScript the text stays plain and selectable. The outcome is said in [data-copy-status="ID"].
  document.querySelectorAll("button[data-copy]").forEach((button) => {
    const source = document.getElementById(button.dataset.copy);
    const status = document.querySelector(`[data-copy-status="${button.dataset.copy}"]`);
    if (!source || !navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", () => {
      const say = (text) => {
        if (status) status.textContent = text;
      };
      navigator.clipboard.writeText(source.textContent.trim()).then(
        () => say(button.dataset.copied),
        () => {
          window.getSelection().selectAllChildren(source);
          say(button.dataset.copyFailed);
        },
      );
    });
  });
  // Stacked tables (<table class="stack-sm">, one card per row on phones): the CSS changes
  // their display, and some browsers then drop the table semantics. Explicit roles keep a
  // screen reader's table navigation and column headers.
  document.querySelectorAll("table.stack-sm").forEach((table) => {
    table.setAttribute("role", "table");
    table.querySelectorAll(":scope > thead, :scope > tbody").forEach((group) => group.setAttribute("role", "rowgroup"));
    table.querySelectorAll(":scope > * > tr").forEach((row) => row.setAttribute("role", "row"));
    table.querySelectorAll(":scope > * > tr > th").forEach((cell) => cell.setAttribute("role", cell.closest("thead") ? "columnheader" : "rowheader"));
    table.querySelectorAll(":scope > * > tr > td").forEach((cell) => cell.setAttribute("role", "cell"));
  });
  // Messages where the eye is. After a form in a section was sent, the page opens at that
  // section (#rsvp, #invitees, …): the confirmation or error moves there and takes the
  // focus, instead of sitting at the top, out of sight. A form shown again with errors
  // puts the focus on the error summary at the top (macros.error_summary), whose links lead to
  // each field; a form without one, on its first invalid field (its message is linked by aria-describedby).
  const flash = document.getElementById("flash-messages");
  const section = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
  const summary = document.getElementById("error-summary");
  const invalid = document.querySelector("[aria-invalid='true']");
  if (flash && section && !invalid && !summary) section.prepend(flash);
  const target = summary || invalid || flash;
  if (target) {
    // After "load": the browser's own jump to the #section would otherwise take the focus back.
    window.addEventListener("load", () => window.setTimeout(() => target.focus(), 0));
  }
  // Forms that create (<form data-once>): sent once. Their buttons are disabled while the form is
  // being sent (after the submit event, so the button pressed still sends its name and value),
  // and a second press is ignored. The server refuses a second sending anyway (core/once.py).
  document.querySelectorAll("form[data-once]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (form.dataset.sending === "1") {
        event.preventDefault();
        return;
      }
      form.dataset.sending = "1";
      window.setTimeout(() => {
        form.querySelectorAll("button[type='submit'], button:not([type]), input[type='submit']").forEach((button) => {
          button.disabled = true;
        });
        form.setAttribute("aria-busy", "true");
      }, 0);
    });
  });
  // Print buttons: <button data-print>.
  document.querySelectorAll("[data-print]").forEach((el) => {
    el.addEventListener("click", () => window.print());
  });
});
// Back to a page kept in the browser's memory (bfcache): its forms were left "being sent"; they work again.
window.addEventListener("pageshow", () => {
  document.querySelectorAll("form[data-once]").forEach((form) => {
    delete form.dataset.sending;
    form.removeAttribute("aria-busy");
    form.querySelectorAll("button, input[type='submit']").forEach((button) => {
      button.disabled = false;
    });
  });
});
