// The traffic chart: page views (area) and visitors (line) per bucket, and the previous period's
// page views (dashed) for comparison, drawn as inline SVG at the container's real width. Pointer
// and arrow keys read out single buckets; a table with every number sits beside it for everyone.

import { h, s, uid } from "./dom.js";
import * as format from "./format.js";

const HEIGHT = 240;
const MARGIN = { top: 14, right: 14, bottom: 30, left: 44 };
// A generous average width of an axis label's character (11 px text), to keep labels inside the chart.
const AXIS_CHARACTER_WIDTH = 7.2;

function niceStep(maximum, steps) {
  const raw = Math.max(maximum, 1) / steps;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const residual = raw / magnitude;
  const nice = residual > 5 ? 10 : residual > 2 ? 5 : residual > 1 ? 2 : 1;
  return Math.max(1, nice * magnitude);
}

function linePath(points) {
  return points.map(([x, y], index) => `${index === 0 ? "M" : "L"}${x.toFixed(1)},${y.toFixed(1)}`).join("");
}

function describe(bucket, interval, previous) {
  const parts = [
    bucketLabel(bucket, interval),
    `${format.integer(bucket.pageviews)} page ${bucket.pageviews === 1 ? "view" : "views"}`,
    `${format.integer(bucket.visitors)} ${bucket.visitors === 1 ? "visitor" : "visitors"}`,
  ];
  if (previous) parts.push(`previous period ${format.integer(previous.pageviews)} page views`);
  return parts.join(", ");
}

function bucketLabel(bucket, interval) {
  return format.bucketLabel(bucket.time, interval, true);
}

/**
 * Renders into `container`; returns { update(data), destroy() }.
 * data: { points: chart_data, previous: comparison chart_data or null, interval }
 */
export function trafficChart(container) {
  const liveId = uid("chart-live");
  const figure = h("div", {
    class: "chart", tabindex: "0", role: "group",
    "aria-roledescription": "chart",
    "aria-label": "Page views and visitors over time. Use the left and right arrow keys to read each point.",
  });
  const tooltip = h("div", { class: "chart-tooltip", hidden: true, "aria-hidden": "true" });
  const live = h("div", { class: "sr-only", id: liveId, "aria-live": "polite" });
  const legend = h("ul", { class: "chart-legend", "aria-hidden": "true" });
  const tableWrap = h("details", { class: "chart-table" }, h("summary", {}, "Show the chart's numbers as a table"));
  container.replaceChildren(h("div", { class: "chart-frame" }, figure, tooltip), legend, live, tableWrap);

  let data = { points: [], previous: null, interval: "day" };
  let active = null;
  let layout = null;

  function draw() {
    const width = Math.max(260, Math.floor(figure.clientWidth || container.clientWidth || 600));
    const height = width < 500 ? 200 : HEIGHT;
    const { points, previous, interval } = data;
    const plotWidth = width - MARGIN.left - MARGIN.right;
    const plotHeight = height - MARGIN.top - MARGIN.bottom;
    const maximum = Math.max(1, ...points.map((p) => Math.max(p.pageviews, p.visitors)),
      ...(previous || []).map((p) => p.pageviews));
    const step = niceStep(maximum, 4);
    const top = Math.ceil(maximum / step) * step;
    const x = (index) => MARGIN.left + (points.length <= 1 ? plotWidth / 2 : (index * plotWidth) / (points.length - 1));
    const y = (value) => MARGIN.top + plotHeight - (value / top) * plotHeight;

    const svg = s("svg", {
      width, height, viewBox: `0 0 ${width} ${height}`, "aria-hidden": "true", focusable: "false", class: "chart-svg",
    });
    // Grid and y axis labels.
    for (let value = 0; value <= top; value += step) {
      svg.append(
        s("line", { x1: MARGIN.left, x2: width - MARGIN.right, y1: y(value), y2: y(value), class: "chart-grid" }),
        s("text", { x: MARGIN.left - 8, y: y(value) + 4, class: "chart-axis", "text-anchor": "end" }, format.compact(value)));
    }
    // X axis labels, spaced so they never collide. Hours over more than one day say their day too
    // (or only their day, once labels are a day or more apart); a label never runs off either end.
    if (points.length) {
      const spansDays = interval === "hour" && points.length > 1
        && points[0].time.slice(0, 10) !== points[points.length - 1].time.slice(0, 10);
      const spacing = spansDays ? 112 : 78;
      const every = Math.max(1, Math.ceil(points.length / Math.max(1, Math.floor(plotWidth / spacing))));
      const labelStyle = !spansDays ? interval : every >= 24 ? "day" : "hour-dated";
      // Days are labelled at their midnights, every `stepDays` days, so that no day is skipped unevenly.
      const stepDays = Math.ceil(every / 24);
      let midnights = 0;
      points.forEach((point, index) => {
        if (labelStyle === "day") {
          // The bucket's wall-clock hour, as the API writes it in the chosen zone.
          if (point.time.slice(11, 13) !== "00") return;
          midnights += 1;
          if ((midnights - 1) % stepDays !== 0) return;
        } else if (index % every !== 0) {
          return;
        }
        const text = format.bucketLabel(point.time, labelStyle);
        const halfWidth = (text.length * AXIS_CHARACTER_WIDTH) / 2;
        const anchor = x(index) - halfWidth < 0 ? "start" : x(index) + halfWidth > width ? "end" : "middle";
        svg.append(s("text", { x: x(index), y: height - 8, class: "chart-axis", "text-anchor": anchor }, text));
      });
    }
    if (previous && previous.length) {
      const shown = previous.slice(0, points.length);
      svg.append(s("path", { d: linePath(shown.map((p, i) => [x(i), y(p.pageviews)])), class: "chart-line previous" }));
    }
    if (points.length) {
      const pageviews = points.map((p, i) => [x(i), y(p.pageviews)]);
      const area = `${linePath(pageviews)}L${x(points.length - 1).toFixed(1)},${y(0).toFixed(1)}L${x(0).toFixed(1)},${y(0).toFixed(1)}Z`;
      svg.append(
        s("path", { d: area, class: "chart-area" }),
        s("path", { d: linePath(pageviews), class: "chart-line pageviews" }),
        s("path", { d: linePath(points.map((p, i) => [x(i), y(p.visitors)])), class: "chart-line visitors" }));
      if (points.length === 1) {
        svg.append(s("circle", { cx: x(0), cy: y(points[0].pageviews), r: 4, class: "chart-dot pageviews" }));
      }
    }
    const guide = s("g", { class: "chart-guide", visibility: "hidden" },
      s("line", { y1: MARGIN.top, y2: MARGIN.top + plotHeight, class: "chart-guide-line" }),
      s("circle", { r: 4.5, class: "chart-dot pageviews" }),
      s("circle", { r: 4.5, class: "chart-dot visitors" }));
    svg.append(guide);
    figure.replaceChildren(svg);
    layout = { x, y, plotWidth, width, guide };
    if (active !== null) highlight(active, false);
  }

  function highlight(index, speak) {
    const { points, previous, interval } = data;
    if (!layout || !points.length) return;
    active = Math.max(0, Math.min(points.length - 1, index));
    const point = points[active];
    const cx = layout.x(active);
    const [line, pageDot, visitorDot] = layout.guide.children;
    line.setAttribute("x1", cx);
    line.setAttribute("x2", cx);
    pageDot.setAttribute("cx", cx);
    pageDot.setAttribute("cy", layout.y(point.pageviews));
    visitorDot.setAttribute("cx", cx);
    visitorDot.setAttribute("cy", layout.y(point.visitors));
    layout.guide.setAttribute("visibility", "visible");
    const previousPoint = previous ? previous[active] : null;
    tooltip.replaceChildren(
      h("strong", {}, bucketLabel(point, interval)),
      h("span", { class: "key pageviews" }, `${format.integer(point.pageviews)} page views`),
      h("span", { class: "key visitors" }, `${format.integer(point.visitors)} visitors`),
      previousPoint ? h("span", { class: "key previous" }, `${format.integer(previousPoint.pageviews)} page views before`) : null);
    tooltip.hidden = false;
    // Keep the tooltip inside the chart: flip it to the left of the guide in the right half.
    const left = cx > layout.width / 2 ? cx - tooltip.offsetWidth - 12 : cx + 12;
    tooltip.style.left = `${Math.max(0, left)}px`;
    if (speak) live.textContent = describe(point, interval, previousPoint);
  }

  function hide() {
    active = null;
    if (layout) layout.guide.setAttribute("visibility", "hidden");
    tooltip.hidden = true;
  }

  figure.addEventListener("pointermove", (event) => {
    if (!layout || !data.points.length) return;
    const bounds = figure.getBoundingClientRect();
    const offset = event.clientX - bounds.left - MARGIN.left;
    const spacing = data.points.length <= 1 ? 1 : layout.plotWidth / (data.points.length - 1);
    highlight(Math.round(offset / spacing), false);
  });
  figure.addEventListener("pointerleave", () => {
    if (document.activeElement !== figure) hide();
  });
  figure.addEventListener("blur", hide);
  figure.addEventListener("keydown", (event) => {
    const last = data.points.length - 1;
    if (last < 0) return;
    const moves = { ArrowRight: 1, ArrowLeft: -1 };
    if (event.key in moves) highlight(active === null ? (moves[event.key] > 0 ? 0 : last) : active + moves[event.key], true);
    else if (event.key === "Home") highlight(0, true);
    else if (event.key === "End") highlight(last, true);
    else if (event.key === "Escape") hide();
    else return;
    event.preventDefault();
  });

  function renderTable() {
    const { points, previous, interval } = data;
    const table = h("table", { class: "data-table" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Period"),
        h("th", { scope: "col", class: "numeric" }, "Page views"),
        h("th", { scope: "col", class: "numeric" }, "Visitors"),
        previous ? h("th", { scope: "col", class: "numeric" }, "Page views, previous period") : null)),
      h("tbody", {}, points.map((point, index) => h("tr", {},
        h("th", { scope: "row" }, bucketLabel(point, interval)),
        h("td", { class: "numeric" }, format.integer(point.pageviews)),
        h("td", { class: "numeric" }, format.integer(point.visitors)),
        previous ? h("td", { class: "numeric" }, previous[index] ? format.integer(previous[index].pageviews) : "—") : null))));
    tableWrap.replaceChildren(tableWrap.firstChild, table);
  }

  function renderLegend() {
    legend.replaceChildren(
      h("li", { class: "key pageviews" }, "Page views"),
      h("li", { class: "key visitors" }, "Visitors"),
      data.previous ? h("li", { class: "key previous" }, "Page views, previous period") : null);
  }

  const observer = new ResizeObserver(() => draw());
  observer.observe(container);

  return {
    update(next) {
      data = { points: next.points || [], previous: next.previous || null, interval: next.interval || "day" };
      active = null;
      tooltip.hidden = true;
      renderLegend();
      renderTable();
      draw();
    },
    destroy() {
      observer.disconnect();
    },
  };
}
