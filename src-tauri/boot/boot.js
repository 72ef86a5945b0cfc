// The boot page: "Starting…" while the relay starts, then, if it could not, why
// (src-tauri/src/main.rs puts the message in the fragment, possibly after this page has
// loaded). As text, never as markup.
function show() {
  const why = decodeURIComponent(location.hash.replace(/^#/, ""));
  if (!why) return;
  document.getElementById("why").textContent = why;
  document.getElementById("starting").hidden = true;
  document.getElementById("failed").hidden = false;
}
show();
window.addEventListener("hashchange", show);
