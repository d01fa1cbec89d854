// IANA time zone names for pickers: the browser's own list, with UTC first.

import { h } from "./dom.js";

export function timeZoneNames() {
  let names = [];
  try {
    names = Intl.supportedValuesOf("timeZone");
  } catch (error) {
    names = [];
  }
  const unique = new Set(["UTC", ...names]);
  const local = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (local) unique.add(local);
  return [...unique].sort((a, b) => (a === "UTC" ? -1 : b === "UTC" ? 1 : a.localeCompare(b)));
}

export function timeZoneSelect(selected = "UTC") {
  const names = timeZoneNames();
  if (selected && !names.includes(selected)) names.push(selected);
  return h("select", {}, names.map((name) => h("option", { value: name, selected: name === selected }, name.replaceAll("_", " "))));
}
