// The realtime client helper, for the browser only. Remix's compiler replaces
// `*.client.*` modules in app/ with an empty module in the server build, so
// socket.io-client is never loaded by the server (it is a devDependency, bundled
// into the browser build). Only call `connectHub` from effects.
export { connectHub } from "../../client/realtime";
export type { HubClient, StreamEvent } from "../../client/realtime";
