/**
 * E-mail over SMTP (nodemailer: a well-kept client, not our core). The message is plain text;
 * the event's key travels in `X-Palisade-Event` so a mail rule or a ticketing inbox can tell a
 * retry from a new event. An SMTP 4xx answer or a connection failure is worth retrying; 5xx is not.
 */
import { createTransport } from 'nodemailer';
import type { EmailTarget } from '../../config/notifications.js';
import type { NotifyEvent } from './event.js';
import { emailMessage } from './payloads.js';
import type { SendOutcome } from './send.js';

export type { EmailTarget };

export async function sendEmail(t: EmailTarget, e: NotifyEvent): Promise<SendOutcome> {
  const timeout = t.timeoutMs ?? 10_000;
  const transport = createTransport({
    host: t.host,
    port: t.port,
    secure: t.secure ?? false,
    ...(t.user !== undefined && { auth: { user: t.user, pass: t.pass ?? '' } }),
    connectionTimeout: timeout,
    greetingTimeout: timeout,
    socketTimeout: timeout,
  });
  const m = emailMessage(e);
  try {
    await transport.sendMail({ from: t.from, to: t.to, subject: m.subject, text: m.text, headers: { 'X-Palisade-Event': e.key } });
    return { ok: true, status: 250 };
  } catch (err) {
    const code = (err as { responseCode?: number }).responseCode ?? 0;
    return { ok: false, retry: code === 0 || (code >= 400 && code < 500), status: code, error: `${t.name}: ${(err as Error).message}` };
  } finally {
    transport.close();
  }
}
