import { useSyncExternalStore } from "react";

const noSubscription = () => () => {};

/** False on the server and while hydrating, true once mounted in the browser. */
export function useHydrated(): boolean {
  return useSyncExternalStore(
    noSubscription,
    () => true,
    () => false,
  );
}

/** Renders `children()` only in the browser (after hydration), `fallback` before. */
export function ClientOnly({ children, fallback }: { children: () => React.ReactNode; fallback: React.ReactNode }) {
  return useHydrated() ? <>{children()}</> : <>{fallback}</>;
}
