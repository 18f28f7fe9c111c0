// Every screen of the app, by name. A new screen is a new file in this folder (its
// `init`/`update`/`view`, defined with `screen()` from ../runtime.ts) and one line here;
// its name and the arguments of its `init` become a Route any screen can go to.

import type { Host, Mountable, Mounted } from "../runtime";
import { change } from "./change";
import { home } from "./home";
import { login } from "./login";
import { portal } from "./portal";
import { settings } from "./settings";
import { support } from "./support";
import { wizard } from "./wizard";

export const screens = { login, wizard, portal, change, home, support, settings };

export type Name = keyof typeof screens;
type Args = { [K in Name]: (typeof screens)[K] extends Mountable<infer A> ? A : never };

/** Where the app can go: a screen's name with the arguments of its `init`. */
export type Route = { [K in Name]: { name: K } & Args[K] }[Name];

const registry: { [K in Name]: Mountable<Args[K]> } = screens;

/** Mounts the screen `route` names, with the route as its arguments. */
export function open<K extends Name>(route: { name: K } & Args[K], host: Host, id: number): Mounted {
  return registry[route.name].mount(route, host, id);
}
