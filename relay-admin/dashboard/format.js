// Formatting of times, numbers and durations for tables and cards.

const integer = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });

/** A count with thousands separators (— when absent). */
export function num(value) {
  return value === undefined || value === null ? '—' : integer.format(value);
}

/** A ratio 0..1 as a percentage. */
export function pct(ratio) {
  if (ratio === undefined || ratio === null || Number.isNaN(ratio)) return '—';
  const value = Math.round(ratio * 1000) / 10;
  return `${Number.isInteger(value) ? value : value.toFixed(1)}%`;
}

/** Milliseconds, as "250 ms" or "2.5 s". */
export function ms(value) {
  if (value === undefined || value === null) return '—';
  return value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(value < 10000 ? 1 : 0)} s`;
}

/**
 * A latency percentile from the metrics report: "250 ms", or "> 60 s" when it is beyond the
 * histogram's largest bucket (the API sends `<name>_over_ms` then, no `<name>_ms`).
 */
export function latency(report, name) {
  const over = report[`${name}_over_ms`];
  if (over !== undefined && over !== null) return `> ${ms(over)}`;
  return ms(report[`${name}_ms`]);
}

/** Milliseconds with sub-millisecond precision: "0.42 ms", "12 ms", "2.5 s". */
export function preciseMs(micros) {
  if (micros === undefined || micros === null) return '—';
  if (micros < 1000) return `${(micros / 1000).toFixed(2)} ms`;
  if (micros < 10000) return `${(micros / 1000).toFixed(1)} ms`;
  return ms(Math.round(micros / 1000));
}

/** Bytes, as "1 MiB". */
export function bytes(value) {
  if (value === undefined || value === null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let n = value;
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit += 1;
  }
  return `${Number.isInteger(n) ? n : n.toFixed(1)} ${units[unit]}`;
}

/** Seconds, as "5 min" or "1 d". */
export function seconds(value) {
  if (value === undefined || value === null) return '—';
  if (value < 60) return `${value} s`;
  if (value < 3600) return `${Math.round(value / 60)} min`;
  if (value < 86400) return `${Math.round(value / 3600)} h`;
  return `${Math.round(value / 86400)} d`;
}

/** An RFC 3339 time in the local zone, to the second. */
export function dateTime(iso) {
  if (!iso) return '—';
  const at = new Date(iso);
  return at.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
  });
}

/** An RFC 3339 time in the local zone to the millisecond: "Dec 7, 14:05:03.042". */
export function timeMs(iso) {
  if (!iso) return '—';
  const at = new Date(iso);
  const day = at.toLocaleDateString(undefined, { month: 'short', day: 'numeric' });
  const clockPart = at.toLocaleTimeString(undefined, { hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit' });
  return `${day}, ${clockPart}.${String(at.getMilliseconds()).padStart(3, '0')}`;
}

/** A time of day, "14:05". */
export function clock(at) {
  return at.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
}

/** How long ago, "3 min ago". */
export function ago(iso) {
  if (!iso) return '—';
  const secs = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (secs < 0) return `in ${seconds(-secs)}`;
  if (secs < 5) return 'just now';
  return `${seconds(secs)} ago`;
}

/** A long id shortened for tables: evt_1234…cdef. */
export function shortId(id) {
  return id && id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-4)}` : id;
}

/** A local datetime-local input value as RFC 3339 (UTC). */
export function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : '';
}

/** An RFC 3339 time as a datetime-local input value. */
export function toLocalInput(iso) {
  if (!iso) return '';
  const at = new Date(iso);
  const local = new Date(at.getTime() - at.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 16);
}
