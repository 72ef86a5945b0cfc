// The 8x8 agent's Copilot workspace: its own small bundle, served by the endpoint listener
// under /copilot/ (see vite.config.ts); nothing of the admin app is loaded here.
import { mount } from "svelte";
import Copilot from "./Copilot.svelte";
import "./copilot.css";

const target = document.getElementById("copilot");
if (!target) throw new Error("copilot.html lost its #copilot element");
mount(Copilot, { target });
