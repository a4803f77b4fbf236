/**
 * The bodies each kind of receiver expects, built from one NotifyEvent:
 * - a generic webhook: the event as JSON (signed by the sender, webhook.ts);
 * - a Slack-compatible incoming webhook: `text` (the fallback and notification line) and
 *   `blocks` (a header and mrkdwn sections), as Slack's incoming webhooks document them;
 * - PagerDuty Events API v2: `trigger` for a raised or worsening alert, `acknowledge` when the
 *   incident is being investigated, `resolve` when it is resolved — `dedup_key` ties them all to
 *   the incident, so PagerDuty shows one alert per incident, not one per packet flood.
 */
import type { NotifyEvent } from './event.js';

export function webhookBody(e: NotifyEvent): Record<string, unknown> {
  return { id: e.key, type: e.type, at: e.at, text: e.text, incident: e.incident, ...(e.alert && { alert: e.alert }) };
}

const SLACK_EMOJI: Record<string, string> = {
  critical: ':red_circle:',
  high: ':large_orange_circle:',
  medium: ':large_yellow_circle:',
  low: ':large_blue_circle:',
  info: ':white_circle:',
};

/** Slack's mrkdwn escapes: &, < and > (the three characters its markup gives meaning to). */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function slackBody(e: NotifyEvent): { text: string; blocks: unknown[] } {
  const inc = e.incident;
  const head = `${SLACK_EMOJI[inc.severity] ?? ''} Incident #${inc.number}: ${inc.title}`.trim();
  const fields: string[] = [`*Status:* ${esc(inc.status)}`, `*Severity:* ${esc(inc.severity)}`];
  if (inc.customer) fields.push(`*Customer:* ${esc(inc.customer)}`);
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: head.slice(0, 150), emoji: true } },
    { type: 'section', text: { type: 'mrkdwn', text: esc(e.text).slice(0, 3000) } },
    { type: 'section', fields: fields.map((f) => ({ type: 'mrkdwn', text: f })) },
  ];
  const a = e.alert;
  if (a) {
    const lines = [`*${esc(a.vector)}* → \`${esc(a.victim)}\`  score ${a.score} (${esc(a.urgency)} urgency)`, ...a.reasons.map((r) => `• ${esc(r)}`)];
    if (a.attack.signature) lines.push(`Signature: \`${esc(a.attack.signature.expression).slice(0, 500)}\``);
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 3000) } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `${esc(e.type)} · ${e.at} · event ${esc(e.key)}` }] });
  return { text: `${head} — ${e.text}`.slice(0, 3000), blocks };
}

export type PagerDutyAction = 'trigger' | 'acknowledge' | 'resolve';

const PD_SEVERITY: Record<string, 'critical' | 'error' | 'warning' | 'info'> = { critical: 'critical', high: 'error', medium: 'warning', low: 'info', info: 'info' };

/** The action an event means for the incident's PagerDuty alert; null: nothing to send. */
export function pagerDutyAction(e: NotifyEvent): PagerDutyAction | null {
  if (e.type === 'incident.status') {
    if (e.incident.status === 'resolved' || e.incident.status === 'false_positive') return 'resolve';
    if (e.incident.status === 'investigating' || e.incident.status === 'mitigating') return 'acknowledge';
    return null;
  }
  if (e.type === 'alert.start' || e.type === 'alert.update' || e.type === 'mitigation.failed') return 'trigger';
  return null;
}

export function pagerDutyBody(e: NotifyEvent, routingKey: string, source: string): Record<string, unknown> | null {
  const action = pagerDutyAction(e);
  if (action === null) return null;
  const dedup = `palisade-incident-${e.incident.number}`;
  if (action !== 'trigger') return { routing_key: routingKey, event_action: action, dedup_key: dedup };
  const a = e.alert;
  const details: Record<string, unknown> = { incident: e.incident.number, event: e.key, text: e.text };
  if (a) {
    Object.assign(details, {
      vector: a.vector,
      victim: a.victim,
      score: a.score,
      urgency: a.urgency,
      reasons: a.reasons,
      peak_pps: a.attack.peak_pps,
      peak_bps: a.attack.peak_bps,
    });
    if (a.attack.signature) details.signature = a.attack.signature.expression;
  }
  const payload: Record<string, unknown> = {
    summary: `Incident #${e.incident.number}: ${e.incident.title} — ${e.text}`.slice(0, 1024),
    source: (a?.sensor ?? source).slice(0, 255),
    severity: PD_SEVERITY[e.incident.severity] ?? 'warning',
    timestamp: e.at,
    component: a?.victim ?? e.incident.title,
    group: e.incident.customer ?? 'palisade',
    class: a?.vector ?? e.type,
    custom_details: details,
  };
  return { routing_key: routingKey, event_action: 'trigger', dedup_key: dedup, client: 'Palisade', payload };
}

/** Plain-text e-mail: subject and body. */
export function emailMessage(e: NotifyEvent): { subject: string; text: string } {
  const inc = e.incident;
  const subject = `[palisade] [${inc.severity}] Incident #${inc.number}: ${inc.title}`.replace(/[\r\n]+/g, ' ').slice(0, 200);
  const lines = [e.text, '', `Incident #${inc.number} — ${inc.title}`, `Status: ${inc.status}`, `Severity: ${inc.severity}`];
  if (inc.customer) lines.push(`Customer: ${inc.customer}`);
  const a = e.alert;
  if (a) {
    lines.push('', `Alert ${a.id}: ${a.vector} on ${a.victim} (score ${a.score}, ${a.urgency} urgency)`, ...a.reasons.map((r) => `  - ${r}`));
    if (a.attack.signature) lines.push(`Signature: ${a.attack.signature.expression}`);
  }
  lines.push('', `Event ${e.key} (${e.type}) at ${e.at}`);
  return { subject, text: lines.join('\n') };
}
