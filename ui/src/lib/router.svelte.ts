// A tiny path router: three pages do not need a library. The server answers every
// extension-less path with index.html, so a reload on /settings/handover lands here too.
// A page with unsaved edits registers a guard; every way of leaving (links, back/forward,
// closing the tab) asks it first.

export const routes = {
  "/": "Status",
  "/settings/endpoint": "Endpoint settings",
  "/settings/handover": "Handover settings",
  "/conversations": "Conversations",
  "/analytics": "Analytics",
  "/tester": "Tester",
  "/agent-console": "Agent console",
  "/inspector": "Inspector",
} as const;

export type Route = keyof typeof routes;

function known(path: string): Route {
  return path in routes ? (path as Route) : "/";
}

const LEAVE_QUESTION = "You have unsaved changes on this page. Leave and discard them?";

class Router {
  path = $state<Route>(known(location.pathname));
  #dirty: () => boolean = () => false;

  constructor() {
    window.addEventListener("popstate", () => {
      const next = known(location.pathname);
      if (next === this.path) return;
      if (!this.#mayLeave()) {
        // Undo the browser's move: the address bar must keep matching the page shown.
        history.pushState(null, "", this.path);
        return;
      }
      this.path = next;
    });
    window.addEventListener("beforeunload", (e) => {
      if (this.#dirty()) e.preventDefault();
    });
  }

  #mayLeave(): boolean {
    return !this.#dirty() || window.confirm(LEAVE_QUESTION);
  }

  /** Pages with a form call this on mount; the returned function unregisters. */
  guard(isDirty: () => boolean): () => void {
    this.#dirty = isDirty;
    return () => {
      if (this.#dirty === isDirty) this.#dirty = () => false;
    };
  }

  go(path: Route) {
    if (path === this.path || !this.#mayLeave()) return;
    history.pushState(null, "", path);
    this.path = path;
    this.#dirty = () => false;
  }

  /** onclick for in-app links: plain clicks route here, modified clicks stay the browser's. */
  link = (e: MouseEvent) => {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const anchor = e.currentTarget as HTMLAnchorElement;
    e.preventDefault();
    this.go(known(new URL(anchor.href).pathname));
  };
}

export const router = new Router();
