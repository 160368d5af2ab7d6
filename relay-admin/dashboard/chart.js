// Hand-drawn SVG charts: per-minute lines and a histogram. Colours come from CSS classes
// (`s-<series>`), so no inline style is needed (the CSP forbids it).

import { s } from './ui.js';
import { clock, num } from './format.js';

const WIDE = 760;
const H = 240;
const PAD = { left: 44, right: 12, top: 12, bottom: 26 };

/** A "nice" upper bound for the y axis: four ticks of 1, 2 or 5 × 10^k (at least 1). */
function niceMax(value) {
  const tick = Math.max(1, value / 4);
  const power = 10 ** Math.floor(Math.log10(tick));
  const step = [1, 2, 5, 10].find((m) => m * power >= tick) * power;
  return 4 * step;
}

function yAxis(max, y, W) {
  return [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const value = max * f;
    const at = y(value);
    return [
      s('line', { class: 'grid', x1: PAD.left, x2: W - PAD.right, y1: at, y2: at }),
      s('text', { class: 'axis', x: PAD.left - 6, y: at + 4, 'text-anchor': 'end' }, num(value)),
    ];
  });
}

/**
 * A line chart of per-minute series: `minutes` are Dates, `series` are
 * {key, label, values} with one value per minute. Points with a value carry
 * `data-value`, and each minute has a hover area whose tooltip lists every series.
 */
export function lineChart(minutes, series, testId, W = WIDE) {
  const max = niceMax(Math.max(0, ...series.flatMap((x) => x.values)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const step = minutes.length > 1 ? plotW / (minutes.length - 1) : plotW;
  const x = (i) => PAD.left + i * step;
  const y = (v) => PAD.top + plotH - (v / max) * plotH;
  const every = Math.max(1, Math.ceil(minutes.length / (W / 95)));
  const ticks = minutes.map((m, i) => (i % every === 0
    ? s('text', { class: 'axis', x: x(i), y: H - 8, 'text-anchor': 'middle' }, clock(m))
    : null));
  const lines = series.map((x1) => {
    const d = x1.values.map((v, i) => `${i === 0 ? 'M' : 'L'}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
    const dots = x1.values.map((v, i) => (v > 0
      ? s('circle', { class: `s-${x1.key}`, cx: x(i), cy: y(v), r: 2.6, 'data-value': v, 'data-series': x1.key })
      : null));
    return s('g', { 'data-series': x1.key }, s('path', { class: `line s-${x1.key}`, d }), dots);
  });
  const hovers = minutes.map((m, i) => s('rect', {
    class: 'hover', x: x(i) - step / 2, y: PAD.top, width: step, height: plotH,
  }, s('title', null, [clock(m), ...series.map((x1) => `${x1.label}: ${num(x1.values[i])}`)].join('\n'))));
  return s('svg', {
    class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'data-test': testId,
    'aria-label': series.map((x1) => x1.label).join(', '),
  }, yAxis(max, y, W), ticks, lines, hovers);
}

/** A histogram: `bars` are {label, value}. */
export function barChart(bars, testId, W = WIDE) {
  const max = niceMax(Math.max(0, ...bars.map((b) => b.value)));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / Math.max(1, bars.length);
  const y = (v) => PAD.top + plotH - (v / max) * plotH;
  // Labels never overlap: when the widest does not fit its slot, only every n-th is written
  // (each bar's tooltip still names it).
  const widest = Math.max(0, ...bars.map((b) => String(b.label).length)) * 6.5 + 6;
  const every = Math.max(1, Math.ceil(widest / slot));
  const rects = bars.map((b, i) => s('g', null,
    s('rect', {
      class: 'bar', x: PAD.left + i * slot + slot * 0.15, y: y(b.value),
      width: slot * 0.7, height: Math.max(0, PAD.top + plotH - y(b.value)), 'data-value': b.value,
    }, s('title', null, `${b.label}: ${num(b.value)}`)),
    i % every === 0 ? s('text', { class: 'axis', x: PAD.left + i * slot + slot / 2, y: H - 8, 'text-anchor': 'middle' }, b.label) : null));
  return s('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'data-test': testId }, yAxis(max, y, W), rects);
}
