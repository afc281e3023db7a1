// <clock> with its offset and <timer> elements.
import type { XmlElement } from '../../util/xml.js';
import { elem, unknownParts } from '../../util/xml.js';
import type { ClockDef, TimerDef } from './domain-def.js';
import { enumAttr, invalidAttr, missingAttr, yesNo, yesNoAttr } from './parse-util.js';

const OFFSETS = ['utc', 'localtime', 'timezone', 'variable', 'absolute'] as const;
const TIMER_NAMES = ['platform', 'pit', 'rtc', 'hpet', 'tsc', 'kvmclock', 'hypervclock', 'armvtimer'];
const TIMER_ATTRS = ['name', 'present', 'tickpolicy', 'track'];
const NONE: string[] = [];

/** Parses <clock>. */
export function parseClock(el: XmlElement): ClockDef {
  const offset = enumAttr(el, 'offset', OFFSETS, "unknown clock offset '%s'") ?? 'utc';
  const clock: ClockDef = { offset, timers: [] };
  if (el.attrs.timezone !== undefined) clock.timezone = el.attrs.timezone;
  if (el.attrs.adjustment !== undefined) clock.adjustment = el.attrs.adjustment;
  const basis = enumAttr(el, 'basis', ['utc', 'localtime'], "unknown clock basis '%s'");
  if (basis !== undefined) clock.basis = basis;
  for (const c of el.children) {
    if (c.type !== 'element' || c.name !== 'timer') continue;
    const name = c.attrs.name;
    if (name === undefined) return missingAttr(c, 'name');
    if (!TIMER_NAMES.includes(name)) invalidAttr(c, 'name');
    const t: TimerDef = { name };
    const p = yesNoAttr(c, 'present');
    if (p !== undefined) t.present = p;
    const tp = enumAttr(c, 'tickpolicy', ['delay', 'catchup', 'merge', 'discard']);
    if (tp !== undefined) t.tickpolicy = tp;
    const tr = enumAttr(c, 'track', ['boot', 'guest', 'wall', 'realtime']);
    if (tr !== undefined) t.track = tr;
    const e = unknownParts(c, TIMER_ATTRS, NONE);
    if (e) t.extra = e;
    clock.timers.push(t);
  }
  const extra = unknownParts(el, ['offset', 'timezone', 'adjustment', 'basis'], ['timer']);
  if (extra) clock.extra = extra;
  return clock;
}

/** Formats <clock>. */
export function formatClock(c: ClockDef): XmlElement {
  return elem(
    'clock',
    { offset: c.offset, timezone: c.timezone, adjustment: c.adjustment, basis: c.basis },
    c.timers.map((t) =>
      elem(
        'timer',
        { name: t.name, present: yesNo(t.present), tickpolicy: t.tickpolicy, track: t.track },
        undefined,
        t.extra,
      ),
    ),
    c.extra,
  );
}
