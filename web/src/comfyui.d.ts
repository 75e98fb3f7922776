// ComfyUI's runtime objects, typed by @comfyorg/comfyui-frontend-types. vite.config.ts keeps these
// imports external and points them at ComfyUI's own /scripts/app.js and /scripts/api.js.
declare module "comfyui/app" {
  import type { ComfyApp } from "@comfyorg/comfyui-frontend-types";
  export const app: ComfyApp;
}

declare module "comfyui/api" {
  import type { ComfyApi } from "@comfyorg/comfyui-frontend-types";
  export const api: ComfyApi;
}
