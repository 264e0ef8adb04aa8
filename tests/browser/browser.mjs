// What the browser tests share: Debian's chromium with the flags they run it with, and a wait
// for something to be seen in a page.

/** Debian's chromium (or CHROMIUM). */
export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

/** Headless, no sandbox, nothing fetched off the local stack. */
export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Two pages in the background of one browser (the buyer's and the agent's): neither may be
 *  throttled. */
export const TWO_PAGES_ARGS = [...CHROMIUM_ARGS, "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding", "--disable-backgrounding-occluded-windows"];

/** `fn()`'s first truthy value, asked every `every` ms; throws once `ms` passed without one. */
export async function until(fn, what, ms, every) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`not seen within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, every));
  }
}
