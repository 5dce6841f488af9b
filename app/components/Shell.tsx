import { Form, NavLink } from "@remix-run/react";
import { CsrfField } from "./CsrfField";

export interface ShellUser {
  name: string;
  email: string;
  role: string;
}

export interface NavItem {
  to: string;
  label: string;
  end?: boolean;
}

export const CONSOLE_NAV: NavItem[] = [
  { to: "/console", label: "Dashboard", end: true },
  { to: "/console/wedding-day", label: "Wedding day" },
  { to: "/console/couples", label: "Couples & core fields" },
  { to: "/console/connectors", label: "Connectors" },
  { to: "/console/connections", label: "Connections" },
  { to: "/console/calendars", label: "Calendar sync" },
  { to: "/console/mappings", label: "Mappings" },
  { to: "/console/sync-runs", label: "Sync runs" },
  { to: "/console/imports", label: "Imports" },
  { to: "/console/webhooks", label: "Webhooks" },
  { to: "/console/webhooks/out", label: "Webhooks out" },
  { to: "/console/messages", label: "Messages" },
  { to: "/console/audit", label: "Audit log" },
];

export function Shell({
  user,
  nav,
  area,
  children,
}: {
  user: ShellUser;
  nav: NavItem[];
  area: string;
  children: React.ReactNode;
}) {
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">
          WedSync <strong>Integration Hub</strong>
          <span className="area">{area}</span>
        </span>
        <div className="whoami">
          <span>
            {user.name} <span className="role">{user.role}</span>
          </span>
          <Form method="post" action="/logout">
            <CsrfField />
            <button type="submit" className="link-button">
              Sign out
            </button>
          </Form>
        </div>
      </header>
      <nav className="sidebar" aria-label="Main">
        <ul>
          {nav.map((item) => (
            <li key={item.to}>
              <NavLink to={item.to} end={item.end} prefetch="intent">
                {item.label}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

export function EmptyState({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <section className="empty-state" aria-label={title}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}
