#!/bin/sh
# Rebuilds api/static/govuk/ from the npm registry: GOV.UK Frontend's styles compiled with
# Arial (its GDS Transport font is for GOV.UK services only, and a council's service is not
# one) and its script, so the dashboard serves every asset itself. The result is committed;
# run this only to move to another GOV.UK Frontend version (keep govuk-frontend-jinja, the
# macros in pyproject.toml, on the matching major version: 4.x for GOV.UK Frontend 6.x).
set -eu
GOVUK_FRONTEND=6.3.0
SASS=1.97.3
here=$(cd "$(dirname "$0")/.." && pwd)
out="$here/api/static/govuk"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
npm init -y >/dev/null
npm install --no-audit --no-fund --ignore-scripts "govuk-frontend@$GOVUK_FRONTEND" "sass@$SASS" >/dev/null
printf '@use "govuk-frontend/dist/govuk" with (%s, %s);\n' \
  '$govuk-font-family: (arial, sans-serif)' \
  '$govuk-assets-path: "/dashboard/static/govuk/"' > entry.scss
mkdir -p "$out"
npx sass --load-path=node_modules --style=compressed --no-source-map --quiet-deps \
  entry.scss "$out/govuk-frontend.min.css"
sed 's|//# sourceMappingURL=.*||' node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js \
  > "$out/govuk-frontend.min.js"
echo "GOV.UK Frontend $GOVUK_FRONTEND (MIT licence, Crown copyright), built with sass $SASS by tools/vendor-govuk.sh" \
  > "$out/VERSION"
