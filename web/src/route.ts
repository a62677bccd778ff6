// Hash routing (#/buy?meter=…): the router serves one index.html, and links work without a server rule.
import { signal } from "./signal";

export interface Route {
  path: string;
  params: URLSearchParams;
}

function parse(): Route {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = hash.split("?", 2);
  return { path: path || "/", params: new URLSearchParams(query) };
}

export const route = signal<Route>(parse());
window.addEventListener("hashchange", () => route.set(parse()));

export function href(path: string, params?: Record<string, string>): string {
  const query = params ? new URLSearchParams(params).toString() : "";
  return `#${path}${query ? `?${query}` : ""}`;
}

export function navigate(path: string, params?: Record<string, string>): void {
  const target = href(path, params);
  if (location.hash === target) route.set(parse());
  else location.hash = target;
}
