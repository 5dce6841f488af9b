// HoneyBook API simulator (project list paged by page number, project details, Bearer tokens).
export { createHoneyBookApiSimulator, HONEYBOOK_DEFAULT_PAGE_SIZE } from "./server.js";
export type * from "./server.js";
export { generateProject, generateProjects, type HoneyBookGenerateOptions, type HoneyBookProject } from "./generator.js";
