"""The managers' dashboard: server-rendered pages under /dashboard (see `routes`).

One module per page builds it from the tracker's figures (`overview`, `funnel`, `capacity`,
`targets`, `forecasts`, `scenarios`); `layout`, `tables` and `charts` say what a page holds
and how it reads; `pages` and `sign_in` are the handlers; `scope` says whose figures and
which pages a sign-in sees; `security` the headers, cookies and CSRF tokens.
"""
