// The shape of every screen, and the one place that runs what screens ask for.
//
// A screen is `init`/`update`/`view`: `init` and `update` return the next model and the
// effects to run, and touch nothing; `view` renders a model with lit-html and turns what
// the user does into messages. The runtime runs the effects: IPC calls, timers, focus,
// navigation. Each mounted screen has an id, its generation; a message an effect brings
// back after the user left that screen (a late IPC answer, a timer) is dropped.

import type { TemplateResult } from "lit-html";
import { toIpcError, type Hotline, type IpcError, type Progress, type ReaderEvent, type Settings } from "./ipc";
import type { Route } from "./screens";

/** What outlives a screen: the saved settings and the last error worth reporting. */
export interface Shared {
  readonly settings: Settings;
  /** Quoted in the support report. */
  readonly lastError: IpcError | null;
  /** The support desk's number: the server's (see the shell's `hotline` command). */
  readonly hotline: Hotline | null;
}

export type Effect<Msg> =
  /** Asynchronous work (an IPC call); its message comes back to the screen that asked. */
  | { readonly type: "task"; readonly run: () => Promise<Msg> }
  /** `msg` after `ms`, replacing the screen's pending timer of the same key. */
  | { readonly type: "timer"; readonly key: string; readonly ms: number; readonly msg: Msg }
  | { readonly type: "go"; readonly route: Route }
  /** After the render: focus the element `selector` names. */
  | { readonly type: "focus"; readonly selector: string }
  /** After the render: empty the input `selector` names (a password, a PIN: models never keep one). */
  | { readonly type: "clear"; readonly selector: string }
  | { readonly type: "remember"; readonly error: IpcError }
  /** Saved settings: the app keeps them and switches to their language. */
  | { readonly type: "settings"; readonly settings: Settings };

/** A model and the effects that go with it. */
export type Next<M, Msg> = readonly [M, readonly Effect<Msg>[]];

/** What a view may do: send its screen a message, follow a link to another screen, or
 * leave for where the user started (`leave`). */
export interface Ui<Msg> {
  send(msg: Msg): void;
  go(route: Route): void;
  /** Back to the home screen of a session still open, else to the login screen: a flow
   * started while logged in never ends on an empty login screen. */
  leave(): void;
  readonly shared: Shared;
}

/** What a screen file writes. */
export interface ScreenDef<M, Msg, Args> {
  init(args: Args, shared: Shared): Next<M, Msg>;
  update(model: M, msg: Msg, shared: Shared): Next<M, Msg>;
  view(model: M, ui: Ui<Msg>): TemplateResult;
  /** The shell's events, as messages, while the screen is shown. */
  progress?(p: Progress): Msg;
  readerEvent?(e: ReaderEvent): Msg;
}

/** A screen as the registry holds it: its model and messages hidden behind `mount`. */
export interface Mountable<Args> {
  mount(args: Args, host: Host, id: number): Mounted;
}

/** A screen: its definition, and `mount` for the registry. */
export interface Screen<M, Msg, Args> extends ScreenDef<M, Msg, Args>, Mountable<Args> {}

/** Defines a screen. The annotation is needed (routes are derived from the screens' types):
 * `export const login: Screen<Model, Msg, Args> = screen({ init, update, view });` */
export function screen<M, Msg, Args>(def: ScreenDef<NoInfer<M>, NoInfer<Msg>, NoInfer<Args>>): Screen<M, Msg, Args> {
  return { ...def, mount: (args, host, id) => mount(def, args, host, id) };
}

// ---- effects, as screens write them ------------------------------------------------

/** An IPC call: its answer or its error (normalised) as a message. */
export function call<T, Msg>(request: () => Promise<T>, ok: (value: T) => NoInfer<Msg>, failed: (error: IpcError) => NoInfer<Msg>): Effect<Msg> {
  return { type: "task", run: () => request().then(ok, (e: unknown) => failed(toIpcError(e))) };
}
export const task = <Msg>(run: () => Promise<Msg>): Effect<Msg> => ({ type: "task", run });
export const after = <Msg>(key: string, ms: number, msg: Msg): Effect<Msg> => ({ type: "timer", key, ms, msg });
export const go = (route: Route): Effect<never> => ({ type: "go", route });
export const focus = (selector: string): Effect<never> => ({ type: "focus", selector });
export const clear = (selector: string): Effect<never> => ({ type: "clear", selector });
export const remember = (error: IpcError): Effect<never> => ({ type: "remember", error });
export const saveSettings = (settings: Settings): Effect<never> => ({ type: "settings", settings });

// ---- running a screen --------------------------------------------------------------

/** What the runtime needs from the app around it. */
export interface Host {
  readonly shared: Shared;
  /** The id of the screen shown now: effects of any other screen are dropped. */
  readonly generation: number;
  render(): void;
  go(route: Route): void;
  /** See [`Ui.leave`]. */
  leave(): void;
  remember(error: IpcError): void;
  saveSettings(settings: Settings): void;
  element(selector: string): HTMLElement | null;
}

/** A screen mounted with its arguments, its types hidden from the app. */
export interface Mounted {
  readonly id: number;
  view(): TemplateResult;
  /** Renders and runs the effects of `init`. */
  start(): void;
  progress(p: Progress): void;
  /** False when the screen does not take reader events. */
  readerEvent(e: ReaderEvent): boolean;
  /** Cancels the screen's timers. */
  dispose(): void;
}

export function mount<M, Msg, Args>(screen: ScreenDef<M, Msg, Args>, args: Args, host: Host, id: number): Mounted {
  const shown = () => host.generation === id;
  const timers = new Map<string, ReturnType<typeof setTimeout>>();
  const [first, initial] = screen.init(args, host.shared);
  let model = first;

  const send = (msg: Msg): void => {
    if (!shown()) return; // the user has moved on
    const [next, effects] = screen.update(model, msg, host.shared);
    model = next;
    run(effects);
  };

  const run = (effects: readonly Effect<Msg>[]): void => {
    // What changes the shared state comes first, so the render shows it.
    for (const e of effects) {
      if (e.type === "remember") host.remember(e.error);
      if (e.type === "settings") host.saveSettings(e.settings);
    }
    host.render();
    for (const e of effects) {
      if (!shown()) return; // a `go` replaced this screen: the rest was for it
      switch (e.type) {
        case "task":
          e.run().then(send, (err: unknown) => console.error("effect failed", err));
          break;
        case "timer":
          clearTimeout(timers.get(e.key));
          timers.set(
            e.key,
            setTimeout(() => {
              timers.delete(e.key);
              send(e.msg);
            }, e.ms),
          );
          break;
        case "go":
          host.go(e.route);
          break;
        case "focus":
          host.element(e.selector)?.focus();
          break;
        case "clear": {
          const el = host.element(e.selector);
          if (el instanceof HTMLInputElement) el.value = "";
          break;
        }
        case "remember":
        case "settings":
          break;
      }
    }
  };

  const ui: Ui<Msg> = {
    send,
    go: (route) => {
      if (shown()) host.go(route);
    },
    leave: () => {
      if (shown()) host.leave();
    },
    get shared() {
      return host.shared;
    },
  };

  return {
    id,
    view: () => screen.view(model, ui),
    start: () => run(initial),
    progress: (p) => {
      if (screen.progress) send(screen.progress(p));
    },
    readerEvent: (e) => {
      if (!screen.readerEvent) return false;
      send(screen.readerEvent(e));
      return true;
    },
    dispose: () => {
      timers.forEach((t) => clearTimeout(t));
      timers.clear();
    },
  };
}
