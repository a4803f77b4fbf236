/**
 * The admin's page: accounts and their tokens, storage and retention, notifications, the audit
 * log. Shown in the navigation to admins only; anyone else who opens #/admin sees the API's own
 * refusal (403) of the audit log rather than a page pretending to work.
 */
import { useState } from 'preact/hooks';
import type { Me } from '../api.js';
import { PageTitle } from '../ui.js';
import { Accounts } from './admin/Accounts.js';
import { AuditLog } from './admin/AuditLog.js';
import { Storage } from './admin/Storage.js';

export function Admin({ me }: { me: Me }) {
  // bumped after each change, so the audit log re-reads and shows it
  const [version, setVersion] = useState(0);
  const changed = () => setVersion((v) => v + 1);
  return (
    <section>
      <PageTitle>Admin</PageTitle>
      {me.role !== 'admin' ? (
        <p class="hint">This page is for the admin role; you are {me.role}.</p>
      ) : (
        <>
          <Accounts me={me} onChange={changed} />
          <Storage onChange={changed} />
        </>
      )}
      <AuditLog version={version} />
    </section>
  );
}
