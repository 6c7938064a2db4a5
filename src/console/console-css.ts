/** The console's stylesheet, served at /console/assets/console.css (style-src 'self'). */
export const CONSOLE_CSS = `/* The operator console: plain, legible, printable. No web fonts, no framework. */
:root { --fg: #1d2329; --muted: #5b6670; --line: #d7dde2; --bg: #fff; --accent: #0b5cad; --warn: #8a4b00; --bad: #a3151b; --ok: #1c6b30; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; gap: 1.2rem; align-items: center; padding: .6rem 1.2rem; border-bottom: 1px solid var(--line); background: #f5f7f9; flex-wrap: wrap; }
header strong { margin-right: .8rem; }
header nav a { margin-right: .9rem; color: var(--accent); text-decoration: none; }
header nav a[aria-current="page"] { font-weight: 600; text-decoration: underline; }
header .who { margin-left: auto; color: var(--muted); }
header form { display: inline; }
main { padding: 1rem 1.2rem 3rem; max-width: 1200px; }
h1 { font-size: 1.35rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.6rem 0 .6rem; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: #f5f7f9; padding: .6rem; overflow-x: auto; border: 1px solid var(--line); }
.figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: .7rem; }
.figure { border: 1px solid var(--line); padding: .6rem .8rem; border-radius: 4px; }
.figure b { display: block; font-size: 1.5rem; }
.figure small { color: var(--muted); }
.held { border: 2px solid var(--warn); padding: .8rem 1rem; border-radius: 4px; margin: .8rem 0; background: #fffaf2; }
.held dl { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .4rem 0 .8rem; }
.held dt { color: var(--muted); }
.held dd { margin: 0; font-weight: 600; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: 3px; font-size: .8rem; border: 1px solid var(--line); }
.badge.bad { color: var(--bad); border-color: var(--bad); }
.badge.ok { color: var(--ok); border-color: var(--ok); }
.badge.warn { color: var(--warn); border-color: var(--warn); }
.notice { padding: .6rem .8rem; border-left: 4px solid var(--accent); background: #eef4fb; margin: .6rem 0; }
.error { border-left-color: var(--bad); background: #fbeeee; }
form.filters { display: flex; flex-wrap: wrap; gap: .5rem .8rem; align-items: end; margin-bottom: .8rem; }
form.filters label, form.act label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
input, select, textarea, button { font: inherit; padding: .3rem .45rem; }
textarea { width: 100%; min-height: 4rem; }
form.act { margin: .6rem 0; }
form.act label.confirm { flex-direction: row; gap: .4rem; align-items: center; color: var(--fg); margin: .4rem 0; }
button { background: var(--accent); color: #fff; border: 0; border-radius: 3px; padding: .35rem .8rem; cursor: pointer; }
button.secondary { background: #e6ebf0; color: var(--fg); }
.muted { color: var(--muted); }
`;
