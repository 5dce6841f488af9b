// The hub's service worker: shows the Web Push notifications the hub sends
// (payload {title, body, url?, tag?}) and opens the hub on a click.
self.addEventListener("push", (event) => {
  let data = { title: "WedSync", body: "" };
  try {
    data = event.data ? event.data.json() : data;
  } catch {
    data = { title: "WedSync", body: event.data ? event.data.text() : "" };
  }
  event.waitUntil(
    self.registration.showNotification(String(data.title || "WedSync"), {
      body: String(data.body || ""),
      tag: data.tag ? String(data.tag) : undefined,
      data: { url: typeof data.url === "string" && data.url.startsWith("/") ? data.url : "/vendor" },
    }),
  );
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || "/vendor";
  event.waitUntil(self.clients.openWindow(url));
});
