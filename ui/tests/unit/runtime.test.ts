// The runtime that runs the screens' effects: what an effect brings back after the
// user left its screen is dropped; timers die with their screen.
import { afterEach, describe, expect, it, vi } from "vitest";
import { html } from "lit-html";
import { after, clear, focus, go, mount, screen, task, type Effect, type Host, type Shared } from "../../src/runtime";
import type { Route } from "../../src/screens";

type Msg = { type: "answer"; value: string } | { type: "tick" };
interface Model {
  seen: string[];
}

/** A screen that records every message it gets; `init` runs `initial`. */
function recorder(initial: Effect<Msg>[]) {
  const updates: Msg[] = [];
  const def = screen<Model, Msg, Record<never, never>>({
    init: () => [{ seen: [] }, initial],
    update(m, msg) {
      updates.push(msg);
      return [{ seen: [...m.seen, msg.type === "answer" ? msg.value : "tick"] }, []];
    },
    view: (m) => html`<p>${m.seen.join(",")}</p>`,
  });
  return { def, updates };
}

function host(): Host & { generation: number; renders: number; routes: Route[]; root: HTMLElement } {
  const root = document.createElement("div");
  document.body.append(root);
  const shared: Shared = { settings: { server_url: "", pkcs11_module: null, lang: "vi" }, lastError: null, hotline: null };
  const h = {
    shared,
    generation: 1,
    renders: 0,
    routes: [] as Route[],
    root,
    render: () => void (h.renders += 1),
    go: (route: Route) => {
      h.routes.push(route);
      h.generation += 1; // as App does: the next screen has the next id
    },
    leave: () => undefined,
    remember: () => undefined,
    saveSettings: () => undefined,
    element: (selector: string) => root.querySelector<HTMLElement>(selector),
  };
  return h;
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

afterEach(() => {
  vi.useRealTimers();
  document.body.replaceChildren();
});

describe("the runtime", () => {
  it("delivers an effect's message to the screen that asked", async () => {
    const answer = deferred<Msg>();
    const { def, updates } = recorder([task(() => answer.promise)]);
    const h = host();
    const s = mount(def, {}, h, 1);
    s.start();
    answer.resolve({ type: "answer", value: "ok" });
    await answer.promise;
    await Promise.resolve();
    expect(updates).toEqual([{ type: "answer", value: "ok" }]);
    expect(h.renders).toBe(2);
  });

  it("drops an effect's message that arrives after the user left the screen", async () => {
    const answer = deferred<Msg>();
    const { def, updates } = recorder([task(() => answer.promise)]);
    const h = host();
    const s = mount(def, {}, h, 1);
    s.start();
    h.generation = 2; // the user went to another screen
    s.dispose();
    answer.resolve({ type: "answer", value: "late" });
    await answer.promise;
    await Promise.resolve();
    expect(updates).toEqual([]);
    expect(h.renders).toBe(1);
  });

  it("a shell event (progress, reader) reaches only the screen shown", () => {
    const updates: string[] = [];
    const def = screen<null, string, Record<never, never>>({
      init: () => [null, []],
      update: (m, msg) => (updates.push(msg), [m, []]),
      view: () => html``,
      progress: (p) => `progress:${p}`,
      readerEvent: (e) => `reader:${e.kind}`,
    });
    const h = host();
    const s = mount(def, {}, h, 1);
    s.start();
    s.progress("signing");
    s.readerEvent({ kind: "card_removed", reader: "r" });
    h.generation = 2;
    s.progress("verifying");
    expect(updates).toEqual(["progress:signing", "reader:card_removed"]);
  });

  it("a timer is replaced by the next of the same key and dies with its screen", () => {
    vi.useFakeTimers();
    const updates: Msg[] = [];
    const def = screen<null, Msg, Record<never, never>>({
      init: () => [null, [after("k", 1000, { type: "tick" }), after("k", 2000, { type: "answer", value: "second" })]],
      update: (m, msg) => (updates.push(msg), [m, []]),
      view: () => html``,
    });
    const h = host();
    mount(def, {}, h, 1).start();
    vi.advanceTimersByTime(2500);
    expect(updates).toEqual([{ type: "answer", value: "second" }]);

    const h2 = host();
    const s2 = mount(def, {}, h2, 1);
    s2.start();
    h2.generation = 2;
    s2.dispose();
    vi.advanceTimersByTime(5000);
    expect(updates).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("after a `go`, the rest of the effects of the screen left are not run", () => {
    const run = vi.fn(async (): Promise<Msg> => ({ type: "tick" }));
    const def = screen<null, Msg, Record<never, never>>({
      init: () => [null, [go({ name: "login" }), task(run), focus("#next")]],
      update: (m) => [m, []],
      view: () => html``,
    });
    const h = host();
    mount(def, {}, h, 1).start();
    expect(h.routes).toEqual([{ name: "login" }]);
    expect(run).not.toHaveBeenCalled();
  });

  it("clears and focuses inputs after the render", () => {
    const h = host();
    h.root.innerHTML = `<input id="secret" value="123456"><input id="next">`;
    const def = screen<null, Msg, Record<never, never>>({
      init: () => [null, [clear("#secret"), focus("#next")]],
      update: (m) => [m, []],
      view: () => html``,
    });
    mount(def, {}, h, 1).start();
    expect(h.root.querySelector<HTMLInputElement>("#secret")!.value).toBe("");
    expect(document.activeElement?.id).toBe("next");
  });
});
