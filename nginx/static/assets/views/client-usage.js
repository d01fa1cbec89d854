// A client's requests per day as a small bar chart (the last 30 days), the part the rate limit
// refused (429) drawn apart, with the same figures in a table for screen readers. Fetched when the
// client's card is drawn, from `usagePath` (a user's or a site's client alike).

import { get } from "../api.js";
import { h, s } from "../dom.js";
import * as format from "../format.js";

const WIDTH = 300;
const HEIGHT = 48;

export function usageChart(usagePath, clientName) {
  const figure = h("figure", { class: "usage-chart", "aria-busy": "true" },
    h("figcaption", {}, "Requests, last 30 days"), h("p", { class: "muted" }, "Loading…"));
  get(usagePath).then((usage) => {
    figure.removeAttribute("aria-busy");
    figure.replaceChildren(h("figcaption", {}, `Requests, last 30 days: ${format.integer(usage.totals.requests)}`,
      usage.totals.by_status["429"] ? ` (${format.integer(usage.totals.by_status["429"])} refused by the rate limit)` : ""),
    bars(usage.days, clientName), table(usage.days, clientName));
  }).catch(() => {
    figure.removeAttribute("aria-busy");
    figure.replaceChildren(h("figcaption", {}, "Requests, last 30 days"), h("p", { class: "muted" }, "Usage could not be loaded."));
  });
  return figure;
}

function bars(days, clientName) {
  const most = Math.max(1, ...days.map((day) => day.requests));
  const step = WIDTH / days.length;
  const svg = s("svg", { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, class: "usage-bars", "aria-hidden": "true", focusable: "false" });
  days.forEach((day, index) => {
    const refused = day.by_status["429"];
    const answered = day.requests - refused;
    const x = index * step + 1;
    const width = Math.max(step - 2, 1);
    const answeredHeight = (answered / most) * HEIGHT;
    const refusedHeight = (refused / most) * HEIGHT;
    const title = `${day.date}: ${day.requests} requests, ${refused} refused (429)`;
    svg.append(s("g", {},
      s("title", {}, title),
      s("rect", { x, width, y: HEIGHT - answeredHeight, height: answeredHeight, class: "answered" }),
      s("rect", { x, width, y: HEIGHT - answeredHeight - refusedHeight, height: refusedHeight, class: "refused" })));
  });
  return svg;
}

function table(days, clientName) {
  const active = days.filter((day) => day.requests > 0);
  return h("table", { class: "sr-only" },
    h("caption", {}, `Requests per day of ${clientName}`),
    h("thead", {}, h("tr", {}, ["Day", "Requests", "2xx", "4xx", "429", "5xx"].map((label) => h("th", { scope: "col" }, label)))),
    h("tbody", {}, active.length ? active.map((day) => h("tr", {},
      h("th", { scope: "row" }, day.date), h("td", {}, day.requests),
      ["2xx", "4xx", "429", "5xx"].map((status) => h("td", {}, day.by_status[status])))) : h("tr", {}, h("td", { colspan: 6 }, "No requests"))));
}
