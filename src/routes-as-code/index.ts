export { loadRouteFile } from "./route-file.ts";
