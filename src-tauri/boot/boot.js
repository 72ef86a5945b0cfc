// The boot page's one job: show why the relay did not start (src-tauri/src/main.rs puts
// the message in the fragment). As text, never as markup.
document.getElementById("why").textContent =
  decodeURIComponent(location.hash.replace(/^#/, "")) || "Unknown error.";
