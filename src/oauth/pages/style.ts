// The one stylesheet of the authorization pages (a module, so the build needs no asset copying).
export const STYLESHEET_CSS = `
/* Squall's authorization pages: one small stylesheet, no scripts, no web fonts. */
:root {
  color-scheme: light dark;
  --bg: #f4f5f7;
  --card: #ffffff;
  --text: #16181d;
  --muted: #4b5160;
  --border: #c9ced8;
  --primary: #0b57d0;
  --primary-text: #ffffff;
  --focus: #a3c2ff;
  --danger: #a4161a;
  --danger-bg: #fdecec;
  --warn: #7a4a00;
  --warn-bg: #fff4d6;
  --ok: #1d6b39;
  --ok-bg: #e6f4ea;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111318;
    --card: #1b1e25;
    --text: #eceef2;
    --muted: #b8bdc8;
    --border: #3d4350;
    --primary: #8ab4ff;
    --primary-text: #0d1b33;
    --focus: #5d8fe8;
    --danger: #ffb3b0;
    --danger-bg: #3b1416;
    --warn: #ffd88a;
    --warn-bg: #3a2c0c;
    --ok: #9fdcb1;
    --ok-bg: #12301c;
  }
}
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; font-size: 100%; line-height: 1.5; }
body { margin: 0; background: var(--bg); color: var(--text); min-height: 100vh; display: flex; flex-direction: column; align-items: center; }
header.site { width: 100%; max-width: 32rem; padding: 1.25rem 1rem 0; color: var(--muted); font-size: 0.9375rem; }
header.site strong { color: var(--text); }
main { width: 100%; max-width: 32rem; padding: 1rem; }
.card { background: var(--card); border: 1px solid var(--border); border-radius: 0.75rem; padding: 1.5rem; }
h1 { font-size: 1.5rem; line-height: 1.25; margin: 0 0 0.5rem; }
h2 { font-size: 1.125rem; margin: 1.5rem 0 0.5rem; }
p { margin: 0 0 1rem; }
.lede { color: var(--muted); }
label { display: block; font-weight: 600; margin: 1rem 0 0.25rem; }
input[type=text], input[type=password], input[type=email] {
  width: 100%; font: inherit; padding: 0.625rem 0.75rem; border: 1px solid var(--muted); border-radius: 0.5rem; background: var(--card); color: var(--text);
}
.check { display: flex; gap: 0.5rem; align-items: center; font-weight: 400; }
.check input { width: 1.125rem; height: 1.125rem; margin: 0; }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.actions { display: flex; flex-wrap: wrap; gap: 0.75rem; margin-top: 1.5rem; }
.actions form { margin: 0; }
.after-actions { margin-top: 1rem; }
button, .button {
  font: inherit; font-weight: 600; padding: 0.625rem 1.25rem; border-radius: 0.5rem; border: 1px solid var(--primary); cursor: pointer; text-decoration: none; display: inline-block; min-height: 2.75rem;
}
button.primary { background: var(--primary); color: var(--primary-text); }
button.secondary, .button.secondary { background: transparent; color: var(--text); border-color: var(--muted); }
button.danger { background: transparent; color: var(--danger); border-color: var(--danger); }
button.link { background: none; border: none; padding: 0; min-height: 0; color: var(--primary); text-decoration: underline; font-weight: 400; }
a { color: var(--primary); }
.alert { border-radius: 0.5rem; padding: 0.75rem 1rem; margin: 0 0 1rem; }
.alert.error { background: var(--danger-bg); color: var(--danger); border: 1px solid var(--danger); }
.alert.notice { background: var(--ok-bg); color: var(--ok); border: 1px solid var(--ok); }
.client { display: flex; gap: 0.75rem; align-items: center; margin: 0 0 1rem; }
.client img { width: 3rem; height: 3rem; border-radius: 0.5rem; object-fit: cover; flex: none; }
.client .initial { width: 3rem; height: 3rem; border-radius: 0.5rem; flex: none; display: flex; align-items: center; justify-content: center; font-weight: 700; font-size: 1.375rem; background: var(--bg); border: 1px solid var(--border); }
.client .name { font-weight: 700; font-size: 1.125rem; overflow-wrap: anywhere; }
.client .id { color: var(--muted); font-size: 0.875rem; overflow-wrap: anywhere; }
.badge { display: inline-block; font-size: 0.8125rem; font-weight: 600; padding: 0.125rem 0.5rem; border-radius: 999px; margin-left: 0.25rem; vertical-align: middle; }
.badge.warn { background: var(--warn-bg); color: var(--warn); border: 1px solid var(--warn); }
.badge.ok { background: var(--ok-bg); color: var(--ok); border: 1px solid var(--ok); }
.permissions { list-style: none; padding: 0; margin: 0 0 1rem; border-top: 1px solid var(--border); }
.permissions li { padding: 0.625rem 0; border-bottom: 1px solid var(--border); }
.permissions .detail { display: block; color: var(--muted); font-size: 0.875rem; overflow-wrap: anywhere; }
.accounts { list-style: none; padding: 0; margin: 0 0 1rem; }
.accounts li { margin: 0 0 0.5rem; }
.accounts button { width: 100%; text-align: left; background: var(--card); color: var(--text); border-color: var(--border); }
.accounts .handle { display: block; font-weight: 700; }
.accounts .did { display: block; font-weight: 400; font-size: 0.8125rem; color: var(--muted); overflow-wrap: anywhere; }
.accounts .suggested { display: inline-block; margin-top: 0.25rem; font-size: 0.8125rem; font-weight: 600; padding: 0.125rem 0.5rem; border-radius: 999px; background: var(--ok-bg); color: var(--ok); border: 1px solid var(--ok); }
.who { color: var(--muted); font-size: 0.9375rem; }
.apps { list-style: none; padding: 0; margin: 0; }
.apps > li { border-top: 1px solid var(--border); padding: 1rem 0; }
.meta { color: var(--muted); font-size: 0.875rem; margin: 0.25rem 0 0.5rem; }
footer.site { color: var(--muted); font-size: 0.8125rem; padding: 0 1rem 2rem; max-width: 32rem; width: 100%; }
@media (max-width: 30rem) {
  main { padding: 0.5rem; }
  .card { padding: 1.125rem; border-radius: 0.5rem; }
  .actions { flex-direction: column; }
  .actions button, .actions form { width: 100%; }
}
`;
