import { useRouteLoaderData } from "@remix-run/react";
import type { loader as rootLoader } from "~/root";

/** Every mutating form includes this; the server refuses forms without it (403). */
export function CsrfField() {
  const root = useRouteLoaderData<typeof rootLoader>("root");
  return <input type="hidden" name="_csrf" value={root?.csrf ?? ""} />;
}
