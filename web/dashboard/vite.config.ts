import { defineConfig } from "vite";

// Built into web/dashboard/dist (git-ignored); the gateway serves it at /dashboard/.
export default defineConfig({
  root: import.meta.dirname,
  // Relative asset URLs, so the page works under /dashboard/ without knowing its mount point.
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // No inline scripts or data: modules: the page is served with a strict Content-Security-Policy.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
