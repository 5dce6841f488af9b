// /console/messages: the layout of the messages area (log, one message's timeline, sending a test
// message, provider health, the sandbox outbox, template previews).
import { NavLink, Outlet } from "@remix-run/react";

export default function MessagesLayout() {
  return (
    <>
      <nav className="tabs" aria-label="Messages">
        <NavLink to="/console/messages" end>
          Log
        </NavLink>{" "}
        <NavLink to="/console/messages/send">Send a test</NavLink>{" "}
        <NavLink to="/console/messages/providers">Provider health</NavLink>{" "}
        <NavLink to="/console/messages/outbox">Sandbox outbox</NavLink>{" "}
        <NavLink to="/console/messages/templates">Templates</NavLink>
      </nav>
      <Outlet />
    </>
  );
}
