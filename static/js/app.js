// Forum Desk: small progressive enhancements. Loaded as a file (no inline script: strict CSP).
document.addEventListener("DOMContentLoaded", () => {
  // Buttons that ask before acting: <button data-confirm="Are you sure?">.
  document.querySelectorAll("[data-confirm]").forEach((el) => {
    el.addEventListener("click", (event) => {
      if (!window.confirm(el.dataset.confirm)) event.preventDefault();
    });
  });
  // Print buttons: <button data-print>.
  document.querySelectorAll("[data-print]").forEach((el) => {
    el.addEventListener("click", () => window.print());
  });
});
