// "Show all" of a top list: every value of one stats dimension with its page views, visitors,
// bounce rate and visit duration, from GET /api/sites/{id}/stats/breakdown a page at a time
// ("Load more"), sortable by each number, and the same rows as a CSV download. The period, time
// zone and filters are the stats page's, read from the same URL parameters; the order is in the
// URL too, so that the view can be bookmarked.

import { get } from "../api.js";
import { h, uid } from "../dom.js";
import * as format from "../format.js";
import { displayName, period, rangeDates, rangeText, readState, siteAndDimensions, stateQuery } from "./stats.js";

const PAGE_SIZE = 50;

const COLUMNS = [
  { key: "pageviews", label: "Page views", show: format.integer },
  { key: "visitors", label: "Visitors", show: format.integer },
  { key: "bounce_rate", label: "Bounce rate", show: format.percent },
  { key: "avg_session_duration", label: "Visit duration", show: format.duration },
];

export async function render(context) {
  const { siteId, dimension } = context.params;
  const loaded = await siteAndDimensions(context, siteId);
  if (!loaded) return;
  const { site, dimensions } = loaded;
  const tab = dimensions.groups.flatMap((group) => group.tabs).find((item) => item.dimension === dimension);
  if (!tab) {
    context.setTitle("List not found");
    context.main.append(h("div", { class: "page narrow" },
      h("h1", {}, "List not found"),
      h("p", {}, "The stats have no list of that name."),
      h("p", {}, h("a", { href: `/sites/${siteId}` }, "Back to the stats"))));
    return;
  }
  context.setTitle(`${tab.label} · ${site.name}`);

  const state = readState(context.query, dimensions);
  const zone = state.tz === "local" ? (Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC") : site.timezone;
  const asked = period(state, zone);
  const [firstDay, lastDay] = rangeDates(state, zone);
  let orderBy = COLUMNS.some((column) => column.key === context.query.get("order_by")) ? context.query.get("order_by") : "pageviews";
  let order = context.query.get("order") === "asc" ? "asc" : "desc";

  /** The breakdown's parameters for this view: the stats page's question, this list, this order. */
  function question() {
    return {
      dimension, from: asked.from, to: asked.to, timezone: zone, order_by: orderBy, order,
      filter: state.filters.map((item) => `${item.type}:${item.value}`),
    };
  }

  function viewUrl() {
    const query = new URLSearchParams(stateQuery(state));
    if (orderBy !== "pageviews") query.set("order_by", orderBy);
    if (order !== "desc") query.set("order", order);
    const text = query.toString();
    return `/sites/${siteId}/breakdown/${dimension}${text ? `?${text}` : ""}`;
  }

  function csvUrl() {
    const query = new URLSearchParams({ format: "csv" });
    for (const [key, value] of Object.entries(question())) {
      for (const item of Array.isArray(value) ? value : [value]) query.append(key, item);
    }
    return `/api/sites/${siteId}/stats/breakdown?${query}`;
  }

  /** A value's link back to the stats page, filtered by it (when the list's values filter). */
  function filteredStatsUrl(name) {
    const filters = [...state.filters.filter((item) => item.type !== tab.filter), { type: tab.filter, value: name }];
    return `/sites/${siteId}${stateQuery({ ...state, filters })}`;
  }
  const canFilter = tab.filter && !state.filters.some((item) => item.type === tab.filter);

  const statsUrl = `/sites/${siteId}${stateQuery(state)}`;
  const filterText = state.filters.map((item) => `${dimensions.filters[item.type].label}: ${displayName(dimensions.filters[item.type].values, item.value)}`);
  const csvLink = h("a", { class: "button", href: csvUrl(), download: "" }, "Download CSV");
  const alert = h("div", { class: "form-alert", role: "alert", hidden: true });
  const status = h("p", { class: "sr-only", role: "status" });
  const summary = h("p", { class: "breakdown-summary", tabindex: "-1" });
  const body = h("tbody", {});
  const captionId = uid("breakdown-caption");
  const headers = COLUMNS.map((column) => {
    const button = h("button", { type: "button", class: "sort-button", onclick: () => sortBy(column.key) }, column.label,
      h("span", { class: "sort-mark", "aria-hidden": "true" }));
    return { column, cell: h("th", { scope: "col", class: "numeric" }, button), button };
  });
  // Not stacked on phones, unlike other tables: its column headers are the sort controls.
  const table = h("table", { class: "data-table breakdown-table", "aria-describedby": captionId },
    h("caption", { class: "sr-only", id: captionId }, `${tab.label}: every value, by the column marked sorted`),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, tab.column), headers.map((header) => header.cell))),
    body);
  const more = h("button", { type: "button", class: "button", hidden: true, onclick: () => load({ append: true }) }, "Load more");

  context.main.append(h("div", { class: "page wide" },
    h("nav", { class: "breadcrumbs", "aria-label": "Breadcrumbs" },
      h("a", { href: "/sites" }, "Sites"), h("span", { "aria-hidden": "true" }, " / "),
      h("a", { href: statsUrl }, site.domain), h("span", { "aria-hidden": "true" }, " / "),
      h("span", {}, tab.label)),
    h("div", { class: "stats-head" },
      h("div", {},
        h("h1", { class: "stats-title" }, tab.label),
        h("p", { class: "period" }, `${rangeText(firstDay, lastDay)} · times in ${zone.replaceAll("_", " ")}`,
          filterText.length ? ` · filtered by ${filterText.join(", ")}` : "")),
      h("div", { class: "breakdown-actions" }, csvLink, h("a", { class: "button subtle", href: statsUrl }, "Back to the stats"))),
    alert,
    status,
    h("div", { class: "card table-card" }, table),
    summary,
    h("p", {}, more)));

  let cursor = null;
  let shown = 0;
  let loading = 0;

  function markSort() {
    for (const { column, cell, button } of headers) {
      const sorted = column.key === orderBy;
      cell.setAttribute("aria-sort", sorted ? (order === "asc" ? "ascending" : "descending") : "none");
      button.querySelector(".sort-mark").textContent = sorted ? (order === "asc" ? " ▲" : " ▼") : "";
      button.setAttribute("aria-label", `${column.label}${sorted ? `, sorted ${order === "asc" ? "lowest" : "highest"} first` : ""}. Sort by ${column.label.toLowerCase()}, ${sorted && order === "desc" ? "lowest" : "highest"} first`);
    }
    csvLink.setAttribute("href", csvUrl());
  }

  function rowElement(row) {
    const shownName = displayName(tab.values, row.name);
    const name = canFilter
      ? h("a", { href: filteredStatsUrl(row.name), title: `${row.name}: the stats filtered by it` }, shownName)
      : h("span", { title: row.name }, shownName);
    return h("tr", {},
      h("td", { "data-label": tab.column, class: "breakdown-name" }, name),
      COLUMNS.map((column) => h("td", { "data-label": column.label, class: "numeric" }, column.show(row[column.key]))));
  }

  async function load({ append = false } = {}) {
    const ticket = ++loading;
    alert.hidden = true;
    more.disabled = true;
    table.setAttribute("aria-busy", "true");
    try {
      const page = await get(`/api/sites/${siteId}/stats/breakdown`, {
        query: { ...question(), page_size: PAGE_SIZE, cursor: append ? cursor : undefined },
      });
      if (ticket !== loading || context.signal.aborted) return;
      if (!append) {
        body.replaceChildren();
        shown = 0;
      }
      body.append(...page.rows.map(rowElement));
      shown += page.rows.length;
      cursor = page.next_cursor;
      more.hidden = !cursor;
      summary.textContent = shown === 0 ? "Nothing recorded in this period."
        : cursor ? `The first ${format.integer(shown)} values; there are more.` : `All ${format.integer(shown)} ${shown === 1 ? "value" : "values"}.`;
      if (append) {
        status.textContent = `${format.integer(page.rows.length)} more loaded. ${summary.textContent}`;
        if (!cursor) summary.focus();
      }
    } catch (error) {
      if (ticket !== loading || context.signal.aborted || error.handled) return;
      alert.textContent = `The list could not be loaded: ${error.detail}`;
      alert.hidden = false;
    } finally {
      if (ticket === loading) {
        table.removeAttribute("aria-busy");
        more.disabled = false;
      }
    }
  }

  function sortBy(key) {
    // The sorted column again turns the order round; another starts with its highest values.
    order = key === orderBy && order === "desc" ? "asc" : "desc";
    orderBy = key;
    window.history.pushState(null, "", viewUrl());
    markSort();
    const column = COLUMNS.find((item) => item.key === key);
    status.textContent = `Sorted by ${column.label.toLowerCase()}, ${order === "asc" ? "lowest" : "highest"} first.`;
    cursor = null;
    load();
  }

  markSort();
  await load();
}
