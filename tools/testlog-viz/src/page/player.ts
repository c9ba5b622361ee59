// Play, pause, speed and a scrubber over a trace's time, for a ClusterView (cluster-view.ts).
// Playing moves the view along the clock at the chosen speed; while no message is in the air
// it moves eight times faster ("skip quiet time", on by default), because a simulated cluster
// spends most of its time waiting for timers and a reader's time on messages. The scrubber
// jumps anywhere. `onMove` reports the event shown whenever it changes, so a page can keep its
// table's selected row in step.
//
// API: new Player(container, view, { onMove? }); player.play(), pause(), toggle(),
// player.playing; player.refresh() after appending events (the scrubber's end moves);
// player.moved() after the page moved the view itself (the scrubber follows).

import type { ClusterView } from "./cluster-view.ts";
import { el } from "./dom.ts";

/** Speeds offered, as fractions of real time, for each kind of clock. */
const SPEEDS = {
  virtual: [
    ["1/300×", 1 / 300],
    ["1/100×", 1 / 100],
    ["1/30×", 1 / 30],
    ["1/10×", 1 / 10],
    ["1×", 1],
  ],
  wall: [
    ["1/30×", 1 / 30],
    ["1/10×", 1 / 10],
    ["1×", 1],
    ["5×", 5],
  ],
} as const;
const QUIET_FACTOR = 8;
/** Scrubber steps: fine enough for a few thousand ms of virtual time. */
const SCRUB_STEPS = 2000;

export interface PlayerOptions {
  clock?: "virtual" | "wall";
  onMove?: (index: number) => void;
}

export class Player {
  playing = false;
  private readonly view: ClusterView;
  private readonly options: PlayerOptions;
  private readonly button = el("button", "cv-play", "▶");
  private readonly speed = el("select", "cv-speed");
  private readonly quiet = el("input");
  private readonly scrubber = el("input", "cv-scrub");
  private readonly readout = el("span", "cv-readout");
  private frame = 0;
  private last = 0;
  private lastIndex = -1;

  constructor(container: HTMLElement, view: ClusterView, options: PlayerOptions = {}) {
    this.view = view;
    this.options = options;
    container.classList.add("cv-player");
    const clock = options.clock ?? "virtual";
    for (const [label, value] of SPEEDS[clock]) {
      const option = el("option", "", label);
      option.value = String(value);
      this.speed.append(option);
    }
    this.speed.value = String(clock === "wall" ? 1 : 1 / 100);
    this.speed.title = "speed: a fraction of real time";
    this.speed.setAttribute("aria-label", "speed");
    this.quiet.type = "checkbox";
    this.quiet.checked = true;
    const quiet = el("label", "cv-quiet");
    quiet.title = "while no message is in the air, time goes eight times faster";
    quiet.append(this.quiet, " skip quiet time");
    this.scrubber.type = "range";
    this.scrubber.min = "0";
    this.scrubber.max = String(SCRUB_STEPS);
    this.scrubber.setAttribute("aria-label", "time");
    this.button.type = "button";
    this.button.title = "play or pause (space)";
    container.replaceChildren(this.button, this.scrubber, this.readout, this.speed, quiet);
    this.button.addEventListener("click", () => this.toggle());
    this.scrubber.addEventListener("input", () => {
      this.pause();
      this.view.showAt({ t: (Number(this.scrubber.value) / SCRUB_STEPS) * this.view.duration });
      this.moved();
    });
    this.refresh();
  }

  toggle(): void {
    if (this.playing) this.pause();
    else this.play();
  }

  play(): void {
    if (this.playing) return;
    // at the end, play starts again from the beginning
    if (this.view.position.t >= this.view.duration) this.view.showAt({ index: 0 });
    this.playing = true;
    this.button.textContent = "⏸";
    this.last = performance.now();
    this.frame = requestAnimationFrame((now) => this.tick(now));
  }

  pause(): void {
    this.playing = false;
    this.button.textContent = "▶";
    cancelAnimationFrame(this.frame);
  }

  /** The trace grew or the view moved: the scrubber and the readout follow. */
  refresh(): void {
    const { t } = this.view.position;
    const duration = this.view.duration;
    this.scrubber.value = String(duration > 0 ? Math.round((t / duration) * SCRUB_STEPS) : 0);
    this.readout.textContent = `${this.view.timeText(t)} / ${this.view.timeText(duration)}`;
  }

  /** The page moved the view (a row selected): remember its event, so play goes on from there. */
  moved(): void {
    this.lastIndex = this.view.position.index;
    this.refresh();
    if (this.lastIndex >= 0) this.options.onMove?.(this.lastIndex);
  }

  private tick(now: number): void {
    if (!this.playing) return;
    const elapsed = Math.min(100, now - this.last); // a hidden tab does not jump ahead
    this.last = now;
    const { index, t } = this.view.position;
    const quiet = this.quiet.checked && this.view.model.flightsAt(index, t).length === 0;
    const rate = Number(this.speed.value) * (quiet ? QUIET_FACTOR : 1);
    const next = Math.min(this.view.duration, t + elapsed * rate);
    this.view.showAt({ t: next });
    if (this.view.position.index !== this.lastIndex) this.moved();
    else this.refresh();
    if (next >= this.view.duration) {
      this.pause();
      return;
    }
    this.frame = requestAnimationFrame((later) => this.tick(later));
  }
}
