// /console/webhooks: the layout of the webhooks area. Inbound endpoints live
// under /console/webhooks/in*, outbound ones under /console/webhooks/out*.
import { NavLink, Outlet } from "@remix-run/react";

export default function WebhooksLayout() {
  return (
    <>
      <nav className="tabs" aria-label="Webhooks">
        <NavLink to="/console/webhooks" end>
          Inbound
        </NavLink>{" "}
        <NavLink to="/console/webhooks/out">Outbound</NavLink>
      </nav>
      <Outlet />
    </>
  );
}
