// Small behaviours of the editors' pages (no framework): a form with data-confirm asks before it is sent.
document.addEventListener("submit", (event) => {
  const question = event.target.getAttribute && event.target.getAttribute("data-confirm");
  if (question && !window.confirm(question)) event.preventDefault();
});
// Only one action menu open at a time; Escape closes it (and the phone's page menu).
document.addEventListener("toggle", (event) => {
  const menu = event.target;
  if (menu.matches && menu.matches("details.menu") && menu.open) {
    document.querySelectorAll("details.menu[open]").forEach((other) => { if (other !== menu) other.open = false; });
  }
}, true);
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  document.querySelectorAll("details.menu[open], details.nav-menu[open]").forEach((menu) => {
    menu.open = false;
    menu.querySelector("summary").focus();
  });
});
