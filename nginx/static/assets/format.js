// Formatting of numbers, durations, times and calendar dates, in the person's own locale.

const locale = navigator.language || "en";
const integerFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
const decimalFormat = new Intl.NumberFormat(locale, { minimumFractionDigits: 0, maximumFractionDigits: 2 });
const compactFormat = new Intl.NumberFormat(locale, { notation: "compact", maximumFractionDigits: 1 });

export function integer(value) {
  return integerFormat.format(value || 0);
}

export function decimal(value) {
  return decimalFormat.format(value || 0);
}

export function compact(value) {
  return value >= 10000 ? compactFormat.format(value) : integerFormat.format(value || 0);
}

export function percent(value) {
  return `${decimalFormat.format(Math.round((value || 0) * 10) / 10)}%`;
}

/** 73.5 → "1m 14s"; 3700 → "1h 1m"; 9 → "9s". */
export function duration(seconds) {
  const total = Math.round(seconds || 0);
  if (total < 60) return `${total}s`;
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  return hours > 0 ? `${hours}h ${minutes}m` : `${minutes}m ${rest}s`;
}

const dateTimeFormat = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
const dateTimeSecondsFormat = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "medium" });
const dateFormat = new Intl.DateTimeFormat(locale, { dateStyle: "medium" });

/** An API time (RFC 3339) as local date and time, or `fallback` when unset. */
export function dateTime(value, fallback = "Never") {
  if (!value) return fallback;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : dateTimeFormat.format(date);
}

/** The same with seconds, for logs where the order of events within a minute matters. */
export function dateTimeSeconds(value, fallback = "—") {
  if (!value) return fallback;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? value : dateTimeSecondsFormat.format(date);
}

export function date(value, fallback = "—") {
  if (!value) return fallback;
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? value : dateFormat.format(parsed);
}

const relativeFormat = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
const RELATIVE_STEPS = [
  ["year", 365 * 86400], ["month", 30 * 86400], ["week", 7 * 86400], ["day", 86400],
  ["hour", 3600], ["minute", 60],
];

/** "3 minutes ago", "in 5 days", "now". */
export function relative(value, now = Date.now()) {
  const seconds = (new Date(value).getTime() - now) / 1000;
  for (const [unit, size] of RELATIVE_STEPS) {
    if (Math.abs(seconds) >= size) return relativeFormat.format(Math.round(seconds / size), unit);
  }
  return "just now";
}

// --- calendar dates (YYYY-MM-DD) in a time zone -----------------------------------------------

/** The date of an instant (a Date, or milliseconds since 1970) in `timeZone`, as YYYY-MM-DD. */
export function dateIn(timeZone, instant) {
  const parts = new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
    .formatToParts(instant);
  const part = (type) => parts.find((item) => item.type === type).value;
  return `${part("year")}-${part("month")}-${part("day")}`;
}

/** Today's date in `timeZone`, as YYYY-MM-DD. */
export function todayIn(timeZone) {
  return dateIn(timeZone, new Date());
}

function toUTC(isoDate) {
  const [year, month, day] = isoDate.split("-").map(Number);
  return new Date(Date.UTC(year, month - 1, day));
}

function fromUTC(date) {
  return date.toISOString().slice(0, 10);
}

export function addDays(isoDate, days) {
  const date = toUTC(isoDate);
  date.setUTCDate(date.getUTCDate() + days);
  return fromUTC(date);
}

export function startOfMonth(isoDate, monthsBack = 0) {
  const date = toUTC(isoDate);
  return fromUTC(new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() - monthsBack, 1)));
}

export function endOfMonth(isoDate) {
  const date = toUTC(isoDate);
  return fromUTC(new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 0)));
}

export function isIsoDate(text) {
  return /^\d{4}-\d{2}-\d{2}$/.test(text || "") && !Number.isNaN(toUTC(text).getTime());
}

const calendarDate = new Intl.DateTimeFormat(locale, { timeZone: "UTC", dateStyle: "medium" });
export function calendar(isoDate) {
  return calendarDate.format(toUTC(isoDate));
}

/**
 * The wall-clock parts of an RFC 3339 time as written (the API renders chart buckets in the
 * chosen time zone with its offset), as a Date whose UTC fields are those wall-clock values.
 */
export function wallClock(rfc3339) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(rfc3339 || "");
  if (!match) return new Date(rfc3339);
  const [, year, month, day, hour, minute] = match.map(Number);
  return new Date(Date.UTC(year, month - 1, day, hour, minute));
}

const bucketFormats = {
  hour: new Intl.DateTimeFormat(locale, { timeZone: "UTC", hour: "numeric", minute: "2-digit" }),
  hourLong: new Intl.DateTimeFormat(locale, { timeZone: "UTC", weekday: "short", month: "short", day: "numeric", hour: "numeric", minute: "2-digit" }),
  hourDated: new Intl.DateTimeFormat(locale, { timeZone: "UTC", month: "short", day: "numeric", hour: "numeric" }),
  day: new Intl.DateTimeFormat(locale, { timeZone: "UTC", month: "short", day: "numeric" }),
  dayLong: new Intl.DateTimeFormat(locale, { timeZone: "UTC", weekday: "short", year: "numeric", month: "short", day: "numeric" }),
  month: new Intl.DateTimeFormat(locale, { timeZone: "UTC", month: "short", year: "numeric" }),
  monthLong: new Intl.DateTimeFormat(locale, { timeZone: "UTC", month: "long", year: "numeric" }),
};

/** A chart bucket's label: short for an axis, long for a tooltip or table; `hour-dated` is an hour
 * with its day, for an axis of hours over several days. */
export function bucketLabel(rfc3339, interval, long = false) {
  const wall = wallClock(rfc3339);
  if (interval === "hour") return (long ? bucketFormats.hourLong : bucketFormats.hour).format(wall);
  if (interval === "hour-dated") return bucketFormats.hourDated.format(wall);
  if (interval === "month") return (long ? bucketFormats.monthLong : bucketFormats.month).format(wall);
  if (interval === "week") {
    const label = (long ? bucketFormats.dayLong : bucketFormats.day).format(wall);
    return long ? `Week of ${label}` : label;
  }
  return (long ? bucketFormats.dayLong : bucketFormats.day).format(wall);
}
