// The portal's entry: a small router over the History API. Each route
// renders a page into <main>; links marked data-link navigate without a
// reload, and <main> takes the focus so keyboard and screen-reader users
// land on the new page.

import { App, gas } from "./app";
import { h, replace, shortHex } from "./dom";
import { accountPage, blockPage, blocksPage, txPage } from "./pages/blocks";
import { contractPage, contractsPage } from "./pages/contracts";
import { gasPage } from "./pages/gas";
import { home } from "./pages/home";
import { idPage } from "./pages/id";
import { keysPage } from "./pages/keys";
import { minerPage, minersPage } from "./pages/miners";
import { mePage, recordsSection } from "./pages/records";
import { resultPage } from "./pages/results";

type Page = (app: App, m: RegExpMatchArray) => Promise<Node>;

const routes: [RegExp, Page, string][] = [
  [/^\/$/, (app) => home(app), "Create your ID"],
  [/^\/keys$/, (app) => keysPage(app), "Keys"],
  [/^\/gas$/, (app) => gasPage(app), "GAS"],
  [/^\/ids\/([a-z0-9-]{1,64})$/, async (app, m) => {
    const page = await idPage(m[1]!);
    page.appendChild(await recordsSection(app, m[1]!));
    return page;
  }, "ID"],
  [/^\/me$/, (app) => mePage(app), "My chain"],
  [/^\/contracts$/, () => contractsPage(), "Contracts"],
  [/^\/contracts\/([a-z0-9._-]{1,64})$/, (app, m) => contractPage(app, m[1]!), "Contract"],
  [/^\/results\/([0-9a-f]{64})$/, (app, m) => resultPage(app, m[1]!), "Request"],
  [/^\/miners$/, () => minersPage(), "Miners"],
  [/^\/miners\/([0-9a-f]{40})$/, (_, m) => minerPage(m[1]!), "Miner"],
  [/^\/blocks$/, (app) => blocksPage(app), "Blocks"],
  [/^\/blocks\/([0-9]{1,19})$/, (_, m) => blockPage(Number(m[1])), "Block"],
  [/^\/txs\/([0-9a-f]{64})$/, (_, m) => txPage(m[1]!), "Transaction"],
  [/^\/accounts\/([0-9a-f]{40})$/, (app, m) => accountPage(app, m[1]!), "Account"],
];

async function render(app: App, focus: boolean): Promise<void> {
  const main = document.getElementById("main")!;
  const path = location.pathname;
  app.newPage();
  const route = routes.find(([re]) => re.test(path));
  document.querySelectorAll<HTMLAnchorElement>("#nav a").forEach((a) => {
    if (a.pathname === path) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  });
  let page: Node;
  if (!route) {
    page = h("div", {}, h("h1", {}, "Not found"), h("p", {}, "No page at ", h("code", {}, path), "."));
    document.title = "Not found · Virtual-Machine";
  } else {
    try {
      page = await route[1](app, path.match(route[0])!);
    } catch (e) {
      page = h("div", { class: "status error", role: "alert" }, e instanceof Error ? e.message : String(e));
    }
    document.title = `${route[2]} · Virtual-Machine`;
  }
  replace(main, page);
  if (focus) main.focus();
}

function who(app: App): void {
  const el = document.getElementById("who")!;
  const k = app.active;
  if (!k) {
    replace(el, h("a", { href: "/keys", "data-link": true }, "No key"));
    return;
  }
  const bal = h("span", { class: "bal" });
  replace(el, h("span", { title: k.address }, k.name, " · ", shortHex(k.address)), " ", bal);
  app.account(k.address).then((a) => replace(bal, gas(a.balance)), () => {});
}

async function start(): Promise<void> {
  let app: App;
  try {
    app = await App.open();
  } catch (e) {
    replace(document.getElementById("main")!, h("div", { class: "status error", role: "alert" },
      "The portal could not start: ", e instanceof Error ? e.message : String(e)));
    return;
  }
  replace(document.getElementById("chain")!, `chain ${app.status.chain_id}`);
  app.onChange(() => who(app), true);
  who(app);
  document.addEventListener("click", (e) => {
    const a = (e.target as Element).closest?.("a[data-link]") as HTMLAnchorElement | null;
    if (!a || e.ctrlKey || e.metaKey || e.shiftKey || a.origin !== location.origin) return;
    e.preventDefault();
    if (a.pathname + a.search !== location.pathname + location.search) history.pushState(null, "", a.pathname + a.search);
    void render(app, true);
  });
  window.addEventListener("popstate", () => void render(app, true));
  await render(app, false);
  // The moment the first page is usable, for tests and the load benchmark.
  performance.mark("vm-ready");
  document.body.dataset.ready = "true";
}

void start();
