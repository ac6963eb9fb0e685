// Live search for the default theme (see generator/search.py for the index).
//
// Every language of the site has Pagefind bundles of its own, stemmed by that language's rules,
// one for each run of months (pagefind/bundles.json lists them). A query goes to one Pagefind
// instance per language (the pagefind.js of its first bundle: separate modules, so separate
// instances), which merges that language's other bundles; the results are merged by score.
// A bundle of recent edits (`<lang>/recent/`) holds the pages edited since their run of months
// was indexed; its hidden.json lists the Pagefind ids of their outdated copies, left out here.
// Without JavaScript, or until this runs, the search box is a plain link to the search page,
// which says why search needs it.
// Needs a Content-Security-Policy that allows script-src 'self' 'wasm-unsafe-eval' and
// connect-src 'self'.

const WAIT_MS = 120;
const SHOWN = { box: 6, page: 10 };
const indexes = new Map();

function load(index) {
  // Resolves to [[language, Pagefind instance], ...] for the bundles below `index`.
  if (!indexes.has(index)) {
    indexes.set(index, fetch(new URL("bundles.json", index)).then(async (response) => {
      if (!response.ok) throw new Error(`${response.url}: HTTP ${response.status}`);
      const listing = await response.json();
      return Promise.all(Object.entries(listing).map(async ([lang, [first, ...others]]) => {
        const pagefind = await import(new URL(`${first}pagefind.js`, index).href);
        await pagefind.init();
        await Promise.all(others.map((other) => pagefind.mergeIndex(new URL(other, index).href)));
        const hidden = new Set();
        for (const bundle of others.filter((name) => name.endsWith("/recent/"))) {
          const ids = await fetch(new URL(`${bundle}hidden.json`, index));
          if (ids.ok) for (const id of await ids.json()) hidden.add(id);
        }
        return [lang, pagefind, hidden];
      }));
    }).catch((error) => {
      indexes.delete(index); // try again with the next query
      throw error;
    }));
  }
  return indexes.get(index);
}

// On a multilingual site (`language`, the page's), the page's language alone unless `every`, and its
// results first; on a site of one language, every language's results by score.
async function find(index, query, language, every) {
  const chosen = (await load(index)).filter(([lang]) => !language || every || lang === language);
  const found = await Promise.all(chosen.map(async ([lang, pagefind, hidden]) => {
    const search = await pagefind.search(query);
    return (search?.results ?? []).filter((result) => !hidden.has(result.id)).map((result) => ({ result, lang }));
  }));
  const first = (hit) => (language && hit.lang !== language ? 1 : 0);
  return found.flat().sort((a, b) => first(a) - first(b) || b.result.score - a.result.score);
}

function plural(forms, n, lang) {
  const text = typeof forms === "string" ? forms : forms[new Intl.PluralRules(lang).select(n)] ?? forms.other;
  return text.replace("{n}", n.toLocaleString(lang));
}

function element(name, className, text) {
  const node = document.createElement(name);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

function excerpt(html) {
  // Pagefind marks the matched words with <mark>; keep those and nothing else of the markup.
  const paragraph = element("p", "excerpt");
  const parsed = new DOMParser().parseFromString(html, "text/html");
  for (const node of parsed.body.childNodes) {
    paragraph.append(node.nodeName === "MARK" ? element("mark", "", node.textContent) : node.textContent);
  }
  return paragraph;
}

function hit(data, lang, mode, pageLang) {
  const item = element("li", "hit");
  if (lang !== pageLang) item.lang = lang;
  const title = element(mode === "page" ? "h2" : "p", "hit-title");
  const link = element("a", "", data.meta.title || data.url);
  link.href = data.url;
  title.append(link);
  item.append(title);
  const meta = [data.meta.collection, data.meta.date].filter(Boolean).join(" · ");
  if (meta) item.append(element("p", "meta", meta));
  item.append(excerpt(data.excerpt));
  return item;
}

function setUp(root) {
  const mode = root.dataset.search;
  const index = new URL(root.dataset.index, document.baseURI).href;
  const texts = JSON.parse(root.dataset.texts);
  const lang = root.closest("[lang]")?.lang || "en";
  const form = root.querySelector("form");
  const input = form.querySelector("input[type=search]");
  const every = form.querySelector(".search-every input"); // a multilingual site's search page: widen
  const language = root.dataset.language || "";
  const status = root.querySelector(".search-status");
  const panel = root.querySelector(".search-results");
  let hits = [];
  let shown = SHOWN[mode];
  let run = 0;
  let timer;

  root.querySelector(".search-link")?.setAttribute("hidden", "");
  document.querySelector(".search-nojs")?.setAttribute("hidden", "");
  form.hidden = false;

  async function show(query, mine) {
    const data = await Promise.all(hits.slice(0, shown).map((h) => h.result.data()));
    if (mine !== run) return;
    const list = element("ol", "hits");
    list.append(...data.map((d, i) => hit(d, hits[i].lang, mode, lang)));
    const more = [];
    if (mode === "box" && hits.length) {
      const all = element("a", "search-all", texts.all);
      all.href = `${new URL(root.dataset.page, document.baseURI).href}?q=${encodeURIComponent(query)}`;
      more.push(all);
    } else if (hits.length > shown) {
      const button = element("button", "search-more", texts.more);
      button.type = "button";
      button.addEventListener("click", () => {
        shown += SHOWN.page;
        show(query, run).then(() => panel.querySelectorAll(".hit a")[shown - SHOWN.page]?.focus());
      });
      more.push(button);
    }
    if (!hits.length) more.push(element("p", "search-none", texts.none.replace("{query}", query)));
    panel.replaceChildren(...(hits.length ? [list] : []), ...more);
    panel.hidden = false;
    status.textContent = hits.length ? plural(texts.results, hits.length, lang) : texts.none.replace("{query}", query);
    root.dataset.shown = query; // which query the results are for (tests wait on it)
  }

  async function update() {
    const query = input.value.trim();
    const mine = ++run;
    if (mode === "page") {
      const address = new URL(location.href);
      if (query) address.searchParams.set("q", query);
      else address.searchParams.delete("q");
      if (every?.checked) address.searchParams.set("every", "1");
      else address.searchParams.delete("every");
      history.replaceState(null, "", address);
    }
    if (!query) {
      hits = [];
      panel.hidden = true;
      panel.replaceChildren();
      status.textContent = "";
      return;
    }
    status.textContent = texts.loading;
    try {
      const found = await find(index, query, language, every?.checked);
      if (mine !== run) return;
      hits = found;
      shown = SHOWN[mode];
      await show(query, mine);
    } catch (error) {
      if (mine !== run) return;
      console.warn("search failed:", error);
      panel.hidden = true;
      status.textContent = texts.failed;
    }
  }

  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(update, WAIT_MS);
  });
  input.addEventListener("focus", () => load(index).catch(() => {}), { once: true });
  every?.addEventListener("change", update);
  form.addEventListener("submit", (event) => {
    if (mode === "page") {
      event.preventDefault();
      clearTimeout(timer);
      update();
    }
  });
  root.addEventListener("keydown", (event) => {
    const links = [...panel.querySelectorAll("a, button")];
    const at = links.indexOf(document.activeElement);
    if (event.key === "Escape" && mode === "box" && !panel.hidden) {
      input.focus();
      panel.hidden = true;
    } else if (event.key === "ArrowDown" && links.length) {
      event.preventDefault();
      links[Math.min(at + 1, links.length - 1)].focus();
    } else if (event.key === "ArrowUp" && at >= 0) {
      event.preventDefault();
      (at ? links[at - 1] : input).focus();
    }
  });
  if (mode === "box") {
    root.addEventListener("focusout", (event) => {
      if (!root.contains(event.relatedTarget)) panel.hidden = true;
    });
    input.addEventListener("focus", () => {
      if (panel.childElementCount) panel.hidden = false;
    });
  }
  const params = new URLSearchParams(location.search);
  const query = params.get("q");
  if (every) every.checked = params.get("every") === "1";
  if (mode === "page" && query) {
    input.value = query;
    update();
  }
}

document.querySelectorAll("[data-search]").forEach(setUp);
