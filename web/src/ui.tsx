/** Small pieces every page shares: the page heading that takes focus on navigation, times, severities. */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';

/**
 * The page's h1. It takes focus when the page is shown, so a keyboard or screen-reader user
 * lands at the top of the new page instead of on a link of the old one.
 */
export function PageTitle({ children }: { children: ComponentChildren }) {
  const ref = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1}>
      {children}
    </h1>
  );
}

/** An ISO time as the console shows it: UTC, to the second. */
export function time(iso: string | null | undefined): string {
  if (!iso) return '–';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

export function Severity({ value }: { value: string }) {
  return <span class={`sev sev-${value}`}>{value}</span>;
}

export function victimText(v: { ip?: string; prefix?: string; port?: number; protocol?: string } | undefined): string {
  if (!v) return '–';
  const where = v.prefix ?? v.ip ?? '?';
  return `${where}${v.port != null ? `:${v.port}` : ''}${v.protocol ? ` (${v.protocol})` : ''}`;
}
