// The page's one job: say that its script ran, which is what the footprint benchmark
// (tests/node/bench/footprint.mjs) waits for before it calls the window interactive.
document.documentElement.dataset.state = "interactive";
