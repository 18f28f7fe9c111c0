/** The app's version (src-tauri/tauri.conf.json's "version"), put in at build time by
 * vite.config.ts's `define`. */
declare const __APP_VERSION__: string;
