#!/usr/bin/env bash
# Browser test of the HTML report: renders a generated page in headless Chromium and checks
# that it ran without a console message or script error and that every chart drew pixels.
#   check-html-report.sh MAKE_SAMPLE_REPORT OUT_DIR
# The page's script (src/report/html/report.js) writes its verdict into #kvmscope-status:
# data-state="ok" once each chart's canvas has painted pixels and no error was caught;
# --dump-dom shows that element after the page ran. That status line is for this test, not for
# a reader: a copy of the page with one more script at its end (report-probe.html) records how
# the browser lays the element out, and it must not be displayed. The page itself, the dumped
# DOMs, the browser logs and a screenshot stay in OUT_DIR (the build directory) for a look.
# Exit 77 (skipped) where Chromium is not installed.
set -euo pipefail

generator=$1
out=$2
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "SKIP: chromium is not installed (apt-get install chromium)"
  exit 77
fi

mkdir -p "$out"
page=$out/report.html
"$generator" "$page"

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
# --no-sandbox: tests run as root, where Chromium's sandbox refuses to start. The virtual time
# budget lets the page finish its work before the DOM is dumped.
flags=(--headless=new --no-sandbox --disable-gpu --disable-background-networking
       --disable-component-update --disable-sync --no-first-run --user-data-dir="$profile"
       --enable-logging=stderr --v=0 --virtual-time-budget=10000)

fail() {
  echo "FAIL: $*"
  echo "page: $page  dom: $out/dom.html  logs: $out/chromium-*.log  screenshot: $out/report.png"
  exit 1
}

timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$page" \
  >"$out/dom.html" 2>"$out/chromium-dom.log" || fail "chromium --dump-dom failed"
# The probe runs after the page's own scripts and writes the status element's computed display
# and its number of layout boxes into an attribute of <body>: "none/0" when it is not shown.
probe=$out/report-probe.html
sed 's#</body>#<script>(function () { var s = document.getElementById("kvmscope-status"); document.body.setAttribute("data-status-layout", s ? getComputedStyle(s).display + "/" + s.getClientRects().length : "missing"); })();</script>\n</body>#' \
  "$page" >"$probe"
timeout 120 "$browser" "${flags[@]}" --dump-dom "file://$probe" \
  >"$out/dom-probe.html" 2>"$out/chromium-probe.log" || fail "chromium --dump-dom (probe) failed"
timeout 120 "$browser" "${flags[@]}" --screenshot="$out/report.png" --window-size=1280,2000 \
  "file://$page" 2>"$out/chromium-screenshot.log" || fail "chromium --screenshot failed"

status=$(grep -o '<div id="kvmscope-status"[^>]*>[^<]*' "$out/dom.html" || true)
[ -n "$status" ] || fail "no #kvmscope-status element in the rendered DOM"
echo "status: $status"

# Chromium logs every console message of the page as INFO:CONSOLE; the page writes none.
if grep -h ':CONSOLE' "$out"/chromium-*.log; then
  fail "the page wrote to the console (above)"
fi
grep -q 'data-state="ok"' <<<"$status" || fail "the page did not report ok"
charts=$(sed -n 's/.*data-charts="\([0-9]*\)".*/\1/p' <<<"$status")
rendered=$(sed -n 's/.*data-rendered="\([0-9]*\)".*/\1/p' <<<"$status")
# The sample has both levels (a timeline and a histogram each) and four drill-down kinds.
[ "${charts:-0}" -ge 8 ] || fail "expected at least 8 charts, the page made ${charts:-0}"
[ "$charts" = "$rendered" ] || fail "$rendered of $charts charts drew"
if grep -q '=0px' <<<"$status"; then fail "a chart painted no pixels"; fi
layout=$(sed -n 's/.*<body[^>]* data-status-layout="\([^"]*\)".*/\1/p' "$out/dom-probe.html")
[ "$layout" = "none/0" ] ||
  fail "the status line is shown to the reader (display/boxes: ${layout:-no probe result})"
[ -s "$out/report.png" ] || fail "no screenshot"
# The PNG signature: the screenshot is an image, not an error page saved under that name.
[ "$(head -c 8 "$out/report.png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] ||
  fail "the screenshot is not a PNG"
echo "PASS: $charts charts drawn, no console output; screenshot $out/report.png"
