// A site's stats: KPIs against the previous period, the traffic chart, the top lists (a row click
// adds a filter), date range presets and a custom range, in the site's (or the viewer's) time zone.
// The whole state lives in the URL, so a view can be bookmarked, shared and restored after sign-in.

import { get } from "../api.js";
import { h, uid } from "../dom.js";
import { copyBox, trackerSnippet } from "../components.js";
import { trafficChart } from "../chart.js";
import * as format from "../format.js";

const REFRESH_MS = 60000;

const PRESETS = [
  ["today", "Today"],
  ["yesterday", "Yesterday"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
  ["month", "This month"],
  ["last-month", "Last month"],
  ["12m", "Last 12 months"],
  ["custom", "Custom range"],
];
const INTERVALS = [["", "Automatic"], ["hour", "Hour"], ["day", "Day"], ["week", "Week"], ["month", "Month"]];

// Below this many page views in the period a site is quiet, and the page says how many page views
// were dropped today (`GET /api/sites/{id}/dropped`): why a new tracker seems to record nothing.
const QUIET_PAGEVIEWS = 100;
const DROP_REASONS = [
  ["unknown_origin", "unknown origin", "sent from a page whose origin is not this site's domain or a subdomain of it"],
  ["bot", "bot", "sent by a crawler, monitor, headless browser or HTTP library"],
  ["prefetch", "prefetch", "the browser only loaded the page speculatively"],
];

// The stats dimensions (filter types, top lists, their labels) are the server's registry,
// `GET /api/stats/dimensions`, fetched once per visit (the browser may keep it for an hour).
let dimensionsRequest = null;

export function loadDimensions() {
  if (!dimensionsRequest) {
    dimensionsRequest = get("/api/stats/dimensions", { cache: "default" }).then(describeDimensions, (error) => {
      dimensionsRequest = null;
      throw error;
    });
  }
  return dimensionsRequest;
}

/**
 * What the page needs of the registry: the filters by type ({ label, values }), and the top lists
 * grouped into cards of tabs in the registry's order. A tab's `filter` is the filter type a row
 * click adds (entry and exit pages filter by page).
 */
function describeDimensions(body) {
  const filters = {};
  const groups = [];
  for (const dimension of body.dimensions) {
    if (dimension.filter) filters[dimension.name] = { label: dimension.label, values: dimension.values };
    if (!dimension.list) continue;
    let group = groups.find((item) => item.title === dimension.group);
    if (!group) {
      group = { title: dimension.group, tabs: [] };
      groups.push(group);
    }
    group.tabs.push({
      key: dimension.list, label: dimension.list_label, column: dimension.label,
      filter: dimension.value_filter, values: dimension.values, dimension: dimension.name,
    });
  }
  return { filters, groups };
}

const locale = navigator.language || "en";
const regionNames = safeDisplayNames("region");
const languageNames = safeDisplayNames("language");

function safeDisplayNames(type) {
  try {
    return new Intl.DisplayNames([locale], { type });
  } catch (error) {
    return null;
  }
}

/** What a person reads for a value, by what the values are (the registry's `values`): country and
 * language codes spelled out, keywords capitalized. */
export function displayName(values, value) {
  try {
    if (values === "country_code" && regionNames && /^[A-Z]{2}$/i.test(value)) return regionNames.of(value.toUpperCase()) || value;
    if (values === "language_tag" && languageNames && /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/i.test(value)) return languageNames.of(value) || value;
  } catch (error) {
    // An unknown code is shown as it is.
  }
  if (values === "keyword" && value) return value.charAt(0).toUpperCase() + value.slice(1);
  return value;
}

// --- state in the URL ---------------------------------------------------------------------------

export function readState(query, dimensions) {
  const range = PRESETS.some(([key]) => key === query.get("range")) ? query.get("range") : "30d";
  return {
    range,
    from: query.get("from") || "",
    to: query.get("to") || "",
    interval: INTERVALS.some(([key]) => key && key === query.get("interval")) ? query.get("interval") : "",
    tz: query.get("tz") === "local" ? "local" : "site",
    filters: query.getAll("filter").map((text) => {
      const at = text.indexOf(":");
      return at > 0 ? { type: text.slice(0, at), value: text.slice(at + 1) } : null;
    }).filter((filter) => filter && dimensions.filters[filter.type]),
  };
}

export function stateQuery(state) {
  const query = new URLSearchParams();
  if (state.range !== "30d") query.set("range", state.range);
  if (state.range === "custom") {
    query.set("from", state.from);
    query.set("to", state.to);
  }
  if (state.interval) query.set("interval", state.interval);
  if (state.tz === "local") query.set("tz", "local");
  for (const filter of state.filters) query.append("filter", `${filter.type}:${filter.value}`);
  const text = query.toString();
  return text ? `?${text}` : "";
}

/** The preset's first and last day (inclusive, YYYY-MM-DD) in `timeZone`. */
export function rangeDates(state, timeZone) {
  const today = format.todayIn(timeZone);
  switch (state.range) {
    case "today": return [today, today];
    case "yesterday": return [format.addDays(today, -1), format.addDays(today, -1)];
    case "7d": return [format.addDays(today, -6), today];
    case "month": return [format.startOfMonth(today), today];
    case "last-month": {
      const first = format.startOfMonth(today, 1);
      return [first, format.endOfMonth(first)];
    }
    case "12m": return [format.startOfMonth(today, 11), today];
    case "custom":
      if (format.isIsoDate(state.from) && format.isIsoDate(state.to)) return [state.from, state.to];
      return [format.addDays(today, -29), today];
    case "30d":
    default: return [format.addDays(today, -29), today];
  }
}

export function rangeText(from, to) {
  return from === to ? format.calendar(from) : `${format.calendar(from)} – ${format.calendar(to)}`;
}

/**
 * The period asked for. One that ends today ends at the end of the current hour (the future
 * holds no page views, and a half-finished day measured against a whole one would always look
 * like a drop). The server compares it (`compare=previous`, from a date) with the same days
 * just before, and a period that ends at a time of day with the same time of day the same
 * number of days earlier: today until 15:00 against yesterday until 15:00.
 */
export function period(state, zone) {
  const [from, to] = rangeDates(state, zone);
  if (to !== format.todayIn(zone)) return { from, to, untilNow: false };
  const hourEnd = new Date(Math.floor(Date.now() / 3600000) * 3600000 + 3600000);
  return { from, to: hourEnd.toISOString(), untilNow: true };
}

// --- KPIs ---------------------------------------------------------------------------------------

const KPIS = [
  { key: "unique_sessions", id: "visitors", label: "Visitors", show: format.integer },
  { key: "total_pageviews", id: "pageviews", label: "Page views", show: format.integer },
  { key: "pages_per_session", id: "pages-per-visit", label: "Pages per visit", show: format.decimal },
  { key: "bounce_rate", id: "bounce-rate", label: "Bounce rate", show: format.percent, lowerIsBetter: true, points: true },
  { key: "avg_session_duration", id: "visit-duration", label: "Visit duration", show: format.duration },
];

function changeElement(kpi, current, previous) {
  if (previous === null || previous === undefined) return null;
  let text;
  let direction = 0;
  let spoken;
  if (kpi.points) {
    const delta = Math.round((current - previous) * 10) / 10;
    direction = Math.sign(delta);
    text = `${format.decimal(Math.abs(delta))} pts`;
    spoken = delta === 0 ? "no change from the previous period"
      : `${delta > 0 ? "up" : "down"} ${format.decimal(Math.abs(delta))} percentage points from the previous period`;
  } else if (previous === 0) {
    direction = current > 0 ? 1 : 0;
    text = current > 0 ? "new" : "0%";
    spoken = current > 0 ? "none in the previous period" : "no change from the previous period";
  } else {
    const change = ((current - previous) / previous) * 100;
    const rounded = Math.round(change);
    direction = Math.sign(rounded);
    text = `${Math.abs(rounded)}%`;
    spoken = rounded === 0 ? "no change from the previous period"
      : `${rounded > 0 ? "up" : "down"} ${Math.abs(rounded)}% from the previous period`;
  }
  const good = direction === 0 ? "flat" : (direction > 0) !== Boolean(kpi.lowerIsBetter) ? "good" : "bad";
  const arrow = direction > 0 ? "↑" : direction < 0 ? "↓" : "→";
  return h("p", { class: ["kpi-change", good], title: `Previous period: ${kpi.show(previous)}` },
    h("span", { "aria-hidden": "true" }, `${arrow} ${text}`),
    h("span", { class: "sr-only" }, `${spoken} (${kpi.show(previous)})`));
}

function kpiList(stats) {
  const comparison = stats.comparison;
  return h("ul", { class: "kpis", "aria-label": "Key figures" }, KPIS.map((kpi) => h("li", { class: "kpi", dataset: { kpi: kpi.id } },
    h("p", { class: "kpi-label" }, kpi.label),
    h("p", { class: "kpi-value" }, kpi.show(stats[kpi.key])),
    comparison ? changeElement(kpi, stats[kpi.key], comparison[kpi.key]) : null)));
}

// --- top lists ----------------------------------------------------------------------------------

function topListCard(group, stats, selectedTab, onSelectTab, onFilter, activeFilters, filterTypes, showAllHref) {
  const headingId = uid("top-heading");
  const tabs = group.tabs;
  const selected = Math.min(selectedTab, tabs.length - 1);
  const tabIds = tabs.map(() => uid("tab"));
  const panelId = uid("tabpanel");
  const tabButtons = tabs.map((tab, index) => h("button", {
    type: "button", role: "tab", id: tabIds[index], class: "tab",
    "aria-selected": index === selected ? "true" : "false", "aria-controls": panelId,
    tabindex: index === selected ? "0" : "-1",
    onclick: () => onSelectTab(index, true),
  }, tab.label));
  const tablist = h("div", { role: "tablist", class: "tabs", "aria-labelledby": headingId }, tabButtons);
  tablist.addEventListener("keydown", (event) => {
    const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -Infinity, End: Infinity };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const step = moves[event.key];
    const next = Number.isFinite(step) ? (selected + step + tabs.length) % tabs.length : step < 0 ? 0 : tabs.length - 1;
    onSelectTab(next, true);
  });

  const tab = tabs[selected];
  const rows = stats[tab.key] || [];
  const maximum = Math.max(1, ...rows.map((row) => row.value));
  // A list whose values cannot be filtered by, or whose filter is on already (it shows only
  // that value), has nothing to add.
  const nothingToAdd = !tab.filter || activeFilters.some((filter) => filter.type === tab.filter);
  const list = rows.length === 0
    ? h("p", { class: "empty-list" }, "Nothing recorded in this period.")
    : h("ol", { class: "toplist" }, rows.map((row) => {
      const shown = displayName(tab.values, row.name);
      const bar = h("span", { class: "toplist-bar", "aria-hidden": "true" });
      bar.style.width = `${Math.max(1, (row.value / maximum) * 100).toFixed(1)}%`;
      const content = [bar,
        h("span", { class: "toplist-name", title: row.name }, shown),
        h("span", { class: "toplist-value" }, format.integer(row.value))];
      if (nothingToAdd) {
        // Focusable by script only: focus comes back here when the row that was activated became this one.
        return h("li", {}, h("div", { class: "toplist-row static", tabindex: "-1", dataset: { value: row.name } }, content));
      }
      return h("li", {}, h("button", {
        type: "button", class: "toplist-row", dataset: { value: row.name },
        "aria-label": `${shown}: ${format.integer(row.value)} page views. Filter by this ${filterTypes[tab.filter].label.toLowerCase()}.`,
        onclick: () => onFilter({ type: tab.filter, value: row.name }),
      }, content));
    }));

  return h("section", { class: "card toplist-card", "aria-labelledby": headingId },
    h("h2", { id: headingId, class: "toplist-title" }, group.title),
    tabs.length > 1 ? tablist : null,
    h("div", {
      role: tabs.length > 1 ? "tabpanel" : null, id: panelId,
      "aria-labelledby": tabs.length > 1 ? tabIds[selected] : null, class: "toplist-panel",
    },
    h("div", { class: "toplist-head", "aria-hidden": "true" }, h("span", {}, tab.column), h("span", {}, "Views")),
    list,
    // Every value, with more numbers, a page at a time (views/breakdown.js).
    rows.length ? h("p", { class: "toplist-more" },
      h("a", { href: showAllHref(tab), "aria-label": `Show all: ${tab.label}` }, "Show all")) : null));
}

// --- the page -----------------------------------------------------------------------------------

/**
 * The site and the registry of dimensions, for a view of the site's stats; null when there is
 * nothing to show: the view was left, or the site is not there (the page then says so).
 */
export async function siteAndDimensions(context, siteId) {
  // Asked for beside the site; a failure is reported once the site is known to exist.
  const dimensionsLoading = loadDimensions();
  dimensionsLoading.catch(() => {});
  let site;
  try {
    site = await get(`/api/sites/${siteId}`);
  } catch (error) {
    if (error.status !== 404) throw error;
    context.setTitle("Site not found");
    context.main.append(h("div", { class: "page narrow" },
      h("h1", {}, "Site not found"),
      h("p", {}, "This site does not exist, or you have no access to it."),
      h("p", {}, h("a", { href: "/sites" }, "Back to your sites"))));
    return null;
  }
  const dimensions = await dimensionsLoading;
  return context.signal.aborted ? null : { site, dimensions };
}

export async function render(context) {
  const siteId = context.params.siteId;
  const loaded = await siteAndDimensions(context, siteId);
  if (!loaded) return undefined;
  const { site, dimensions } = loaded;
  context.setTitle(`${site.name} stats`);
  const filterTypes = dimensions.filters;
  const filterLabel = (type) => filterTypes[type].label;
  const filterValue = (filter) => displayName(filterTypes[filter.type].values, filter.value);

  const localZone = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  let state = readState(context.query, dimensions);
  const selectedTabs = dimensions.groups.map(() => 0);
  let lastStats = null;
  let loading = 0;
  // Where focus goes once the lists are drawn again, when a row click started the load.
  let pendingFocus = null;

  // Controls.
  const rangeId = uid("range");
  const rangeSelect = h("select", { id: rangeId, name: "range" },
    PRESETS.map(([key, label]) => h("option", { value: key, selected: key === state.range }, label)));
  const intervalId = uid("interval");
  const intervalSelect = h("select", { id: intervalId, name: "interval" },
    INTERVALS.map(([key, label]) => h("option", { value: key, selected: key === state.interval }, label)));
  const tzId = uid("tz");
  const tzSelect = h("select", { id: tzId, name: "tz" },
    h("option", { value: "site", selected: state.tz === "site" }, `Site: ${site.timezone.replaceAll("_", " ")}`),
    h("option", { value: "local", selected: state.tz === "local" }, `Yours: ${localZone.replaceAll("_", " ")}`));
  const fromInput = h("input", { type: "date", name: "from", id: uid("from") });
  const toInput = h("input", { type: "date", name: "to", id: uid("to") });
  const rangeError = h("p", { class: "field-error", id: uid("range-error"), hidden: true });
  const customForm = h("form", { class: "custom-range", hidden: state.range !== "custom", "aria-label": "Custom range" },
    h("div", { class: "field" }, h("label", { for: fromInput.id }, "From"), fromInput),
    h("div", { class: "field" }, h("label", { for: toInput.id }, "To"), toInput),
    h("button", { type: "submit", class: "button" }, "Apply"),
    rangeError);

  const heading = h("h1", { class: "stats-title", tabindex: "-1" }, site.name);
  const liveBadge = h("p", { class: "live-badge", hidden: true });
  const periodText = h("p", { class: "period", id: uid("period") });
  const comparedText = h("p", { class: "compared" });
  const filterBar = h("div", { class: "filter-bar", hidden: true });
  const alert = h("div", { class: "form-alert", role: "alert", hidden: true });
  const status = h("p", { class: "sr-only", role: "status" });
  // Shown while numbers are being fetched (not during the quiet refresh every minute).
  const loadingIndicator = h("p", { class: "loading-indicator", hidden: true },
    h("span", { class: "spinner", "aria-hidden": "true" }), "Loading the stats…");
  const droppedNote = h("div", { class: "notice dropped-note", hidden: true });
  // Hidden until the first answer: a failed first load shows its error, not an empty chart.
  const results = h("div", { class: "stats-results", hidden: true });
  const kpiSlot = h("div", { class: "kpi-slot" });
  const chartSection = h("section", { class: "card chart-card", "aria-labelledby": "chart-heading" },
    h("h2", { id: "chart-heading", class: "sr-only" }, "Traffic over time"));
  const chartContainer = h("div", { class: "chart-container" });
  chartSection.append(chartContainer);
  const chart = trafficChart(chartContainer);
  const emptyState = h("section", { class: "card empty-state", hidden: true });
  const lists = h("div", { class: "toplists" });
  results.append(comparedText, kpiSlot, droppedNote, emptyState, chartSection, lists);

  context.main.append(h("div", { class: "page wide" },
    h("nav", { class: "breadcrumbs", "aria-label": "Breadcrumbs" }, h("a", { href: "/sites" }, "Sites"), h("span", { "aria-hidden": "true" }, " / "), h("span", {}, site.domain)),
    h("div", { class: "stats-head" },
      h("div", {}, heading, periodText),
      liveBadge),
    h("div", { class: "controls", role: "group", "aria-label": "Period and display" },
      h("div", { class: "field" }, h("label", { for: rangeId }, "Period"), rangeSelect),
      h("div", { class: "field" }, h("label", { for: intervalId }, "Interval"), intervalSelect),
      h("div", { class: "field field-tz" }, h("label", { for: tzId }, "Time zone"), tzSelect),
      customForm),
    filterBar,
    loadingIndicator,
    alert,
    status,
    results));

  function timeZone() {
    return state.tz === "local" ? localZone : site.timezone;
  }

  function syncControls() {
    rangeSelect.value = state.range;
    intervalSelect.value = state.interval;
    tzSelect.value = state.tz;
    customForm.hidden = state.range !== "custom";
    const [from, to] = rangeDates(state, timeZone());
    fromInput.value = from;
    toInput.value = to;
  }

  function renderFilters() {
    filterBar.replaceChildren();
    filterBar.hidden = state.filters.length === 0;
    if (!state.filters.length) return;
    filterBar.append(...[h("span", { class: "filter-bar-label" }, "Filtered by"),
      h("ul", { class: "filter-chips" }, state.filters.map((filter, index) => h("li", {},
        h("button", {
          type: "button", class: "chip",
          "aria-label": `Remove filter: ${filterLabel(filter.type)} is ${filterValue(filter)}`,
          onclick: () => {
            const filters = state.filters.filter((_, at) => at !== index);
            change({ ...state, filters }, `Filter removed.`);
          },
        }, h("span", {}, `${filterLabel(filter.type)}:`), h("strong", {}, filterValue(filter)), h("span", { class: "chip-x", "aria-hidden": "true" }, "×"))))),
      state.filters.length > 1 ? h("button", { type: "button", class: "button subtle", onclick: () => change({ ...state, filters: [] }, "All filters removed.") }, "Clear all") : null,
    ].filter(Boolean));
  }

  /** Where keyboard focus is in the top lists, to put it back on the same tab or row after they are
   * drawn again (a filter added by a row, the refresh every minute). */
  function focusInLists() {
    const active = document.activeElement;
    if (!active || !lists.contains(active)) return null;
    const card = active.closest(".toplist-card");
    return { card: [...lists.children].indexOf(card), value: active.dataset.value, tab: active.getAttribute("role") === "tab" };
  }

  function restoreFocus(focus) {
    const card = lists.children[focus.card];
    if (!card) return;
    const rows = [...card.querySelectorAll(".toplist-row")];
    const target = focus.tab ? card.querySelector('[role="tab"][aria-selected="true"]')
      : rows.find((row) => row.dataset.value === focus.value) || card.querySelector('[role="tab"][aria-selected="true"]') || rows[0];
    if (target) target.focus();
  }

  function renderLists(stats) {
    const focus = pendingFocus || focusInLists();
    pendingFocus = null;
    lists.replaceChildren(...dimensions.groups.map((group, index) => topListCard(group, stats, selectedTabs[index], (tab, focus) => {
      selectedTabs[index] = tab;
      renderLists(lastStats);
      if (focus) lists.children[index].querySelector('[role="tab"][aria-selected="true"]').focus();
    }, (filter) => {
      // The lists are drawn again when the filtered numbers arrive; focus stays on this row.
      pendingFocus = focusInLists();
      const filters = [...state.filters.filter((item) => item.type !== filter.type), filter];
      change({ ...state, filters }, `Filtered by ${filterLabel(filter.type).toLowerCase()} ${filterValue(filter)}.`);
    }, state.filters, filterTypes, (tab) => `/sites/${siteId}/breakdown/${tab.dimension}${stateQuery(state)}`)));
    if (focus) restoreFocus(focus);
  }

  function renderStats(stats) {
    lastStats = stats;
    results.hidden = false;
    liveBadge.hidden = false;
    kpiSlot.replaceChildren(kpiList(stats));
    liveBadge.replaceChildren(h("span", { class: "live-dot", "aria-hidden": "true" }),
      `${format.integer(stats.live_visitors)} ${stats.live_visitors === 1 ? "visitor" : "visitors"} online now`);
    const noData = stats.total_pageviews === 0 && state.filters.length === 0;
    emptyState.hidden = !noData;
    if (noData) {
      emptyState.replaceChildren(
        h("h2", {}, "No page views in this period"),
        h("p", {}, "If the tracker is not on the site yet, put this snippet in the ", h("code", {}, "<head>"), ` of every page on ${site.domain}:`),
        copyBox({ label: `Tracking snippet for ${site.domain}`, value: trackerSnippet() }));
    }
    chart.update({ points: stats.chart_data, previous: stats.comparison ? stats.comparison.chart_data : null, interval: stats.interval });
    renderLists(stats);
  }

  /** "N page views dropped today: …" on a quiet site, with what each reason means. */
  async function showDropped(stats, ticket) {
    if (stats.total_pageviews >= QUIET_PAGEVIEWS) {
      droppedNote.hidden = true;
      return;
    }
    let body;
    try {
      body = await get(`/api/sites/${siteId}/dropped`);
    } catch (error) {
      // The numbers are what the page is for; a missing note is no reason to alarm anyone.
      return;
    }
    if (ticket !== loading || context.signal.aborted) return;
    const today = body.days.find((day) => day.date === body.today);
    droppedNote.hidden = !today;
    if (!today) return;
    const reasons = DROP_REASONS.filter(([key]) => today[key] > 0);
    droppedNote.replaceChildren(
      h("p", {}, h("strong", {}, `${format.integer(today.total)} page ${today.total === 1 ? "view" : "views"} dropped today: `),
        reasons.map(([key, label]) => `${format.integer(today[key])} ${label}`).join(" / ")),
      h("ul", { class: "dropped-reasons" }, reasons.map(([, label, meaning]) => h("li", {}, h("strong", {}, `${label}: `), meaning))));
  }

  /** "Compared with …": the days of the server's comparison period, in the zone. */
  function comparedWith(comparison, zone, untilNow) {
    const first = format.dateIn(zone, Date.parse(comparison.from));
    const last = format.dateIn(zone, Date.parse(comparison.to) - 1);
    return `Compared with ${rangeText(first, last)}${untilNow ? " up to the same time of day" : ""}`;
  }

  async function load({ speak = null, quiet = false } = {}) {
    const ticket = ++loading;
    const zone = timeZone();
    const [firstDay, lastDay] = rangeDates(state, zone);
    const asked = period(state, zone);
    periodText.textContent = `${rangeText(firstDay, lastDay)} · times in ${zone.replaceAll("_", " ")}`;
    if (!quiet) {
      results.setAttribute("aria-busy", "true");
      loadingIndicator.hidden = false;
    }
    alert.hidden = true;
    rangeError.hidden = true;
    const filter = state.filters.map((item) => `${item.type}:${item.value}`);
    try {
      // One request: the period, and the previous one in the same chart buckets, so that the
      // chart can lay one over the other.
      const stats = await get(`/api/sites/${siteId}/stats`, {
        query: { from: asked.from, to: asked.to, timezone: zone, interval: state.interval || undefined, compare: "previous", limit: 10, filter },
      });
      if (ticket !== loading || context.signal.aborted) return;
      comparedText.textContent = comparedWith(stats.comparison, zone, asked.untilNow);
      renderStats(stats);
      showDropped(stats, ticket);
      if (speak) {
        status.textContent = `${speak} ${format.integer(stats.unique_sessions)} visitors, ${format.integer(stats.total_pageviews)} page views.`;
      }
    } catch (error) {
      if (ticket !== loading || context.signal.aborted || error.handled) return;
      if ((error.code === "invalid_range" || error.code === "invalid_date") && state.range === "custom") {
        rangeError.textContent = error.detail.charAt(0).toUpperCase() + error.detail.slice(1);
        rangeError.hidden = false;
        fromInput.setAttribute("aria-invalid", "true");
        fromInput.setAttribute("aria-describedby", rangeError.id);
        toInput.setAttribute("aria-describedby", rangeError.id);
      } else if (error.code === "invalid_interval") {
        // Too many chart points for the period (hours over more than a year): say why and what to pick.
        alert.replaceChildren(`The chart cannot show this period in ${intervalSelect.selectedOptions[0].textContent.toLowerCase()}s: ${error.detail}.`);
        alert.hidden = false;
      } else {
        alert.replaceChildren(`The stats could not be loaded: ${error.detail}`);
        // A network failure or a server that is away for a moment: try again without reloading the page.
        if (error.status === 0 || error.status >= 500) {
          alert.append(" ", h("button", {
            type: "button", class: "button retry",
            onclick: async () => {
              await load({ speak: "Stats loaded." });
              // The button is gone with the alert once it worked: focus goes to the page's heading.
              const retry = alert.hidden ? null : alert.querySelector(".retry");
              (retry || heading).focus();
            },
          }, "Retry"));
        }
        alert.hidden = false;
      }
    } finally {
      if (ticket === loading) {
        results.removeAttribute("aria-busy");
        loadingIndicator.hidden = true;
      }
    }
  }

  function change(next, speak) {
    state = next;
    window.history.pushState(null, "", `/sites/${siteId}${stateQuery(state)}`);
    syncControls();
    renderFilters();
    load({ speak: speak || "Stats updated." });
  }

  rangeSelect.addEventListener("change", () => {
    if (rangeSelect.value === "custom") {
      // Start the custom range from what is showing now.
      const [from, to] = rangeDates(state, timeZone());
      change({ ...state, range: "custom", from, to }, "Custom range.");
      fromInput.focus();
    } else {
      change({ ...state, range: rangeSelect.value }, `${rangeSelect.selectedOptions[0].textContent}.`);
    }
  });
  intervalSelect.addEventListener("change", () => change({ ...state, interval: intervalSelect.value }));
  tzSelect.addEventListener("change", () => {
    // A preset means the same days wherever one is; a custom range keeps its dates.
    change({ ...state, tz: tzSelect.value }, `Times in ${timeZone()}.`);
  });
  customForm.addEventListener("submit", (event) => {
    event.preventDefault();
    fromInput.removeAttribute("aria-invalid");
    if (!format.isIsoDate(fromInput.value) || !format.isIsoDate(toInput.value)) {
      rangeError.textContent = "Enter both dates.";
      rangeError.hidden = false;
      fromInput.setAttribute("aria-describedby", rangeError.id);
      (format.isIsoDate(fromInput.value) ? toInput : fromInput).focus();
      return;
    }
    if (fromInput.value > toInput.value) {
      rangeError.textContent = "The start date is after the end date.";
      rangeError.hidden = false;
      fromInput.setAttribute("aria-invalid", "true");
      fromInput.setAttribute("aria-describedby", rangeError.id);
      fromInput.focus();
      return;
    }
    change({ ...state, range: "custom", from: fromInput.value, to: toInput.value },
      `Showing ${rangeText(fromInput.value, toInput.value)}.`);
  });

  syncControls();
  renderFilters();
  await load();

  const timer = window.setInterval(() => {
    if (document.visibilityState === "visible") load({ quiet: true });
  }, REFRESH_MS);
  return () => {
    window.clearInterval(timer);
    chart.destroy();
  };
}
