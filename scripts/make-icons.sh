#!/usr/bin/env bash
# Regenerates icons/ from the SVG below: every size and format the bundles need (PNG, .ico,
# .icns), through the Tauri CLI's `icon` command. The icons are generated, never drawn by
# hand: change the SVG here and run this script again.
#
#   bash scripts/make-icons.sh
set -euo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo_root"

mkdir -p icons
source_svg=icons/app-icon.svg
# A rounded square in RYTHM's deep blue to teal, a database (three stacked discs) and a
# circular arrow around it: "backups of a database".
cat >"$source_svg" <<'SVG'
<svg xmlns="http://www.w3.org/2000/svg" width="1024" height="1024" viewBox="0 0 1024 1024">
  <defs>
    <linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="#1e3a8a"/>
      <stop offset="1" stop-color="#0d9488"/>
    </linearGradient>
    <linearGradient id="disc" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="#ffffff"/>
      <stop offset="1" stop-color="#dbeafe"/>
    </linearGradient>
  </defs>
  <rect x="64" y="64" width="896" height="896" rx="200" fill="url(#bg)"/>
  <path d="M512 196 A316 316 0 1 1 226 378" fill="none" stroke="#99f6e4" stroke-width="56"
        stroke-linecap="round"/>
  <path d="M160 330 L236 420 L316 336 Z" fill="#99f6e4"/>
  <g fill="url(#disc)">
    <path d="M352 392 v80 c0 40 72 72 160 72 s160 -32 160 -72 v-80 c0 40 -72 72 -160 72 s-160 -32 -160 -72 z"/>
    <path d="M352 500 v80 c0 40 72 72 160 72 s160 -32 160 -72 v-80 c0 40 -72 72 -160 72 s-160 -32 -160 -72 z"/>
    <path d="M352 608 v80 c0 40 72 72 160 72 s160 -32 160 -72 v-80 c0 40 -72 72 -160 72 s-160 -32 -160 -72 z"/>
    <ellipse cx="512" cy="372" rx="160" ry="64"/>
  </g>
  <ellipse cx="512" cy="372" rx="112" ry="36" fill="#1e3a8a" opacity="0.25"/>
</svg>
SVG

# The Tauri CLI from npm (seconds; `cargo install tauri-cli` takes minutes).
CI=true npx --yes @tauri-apps/cli@2 icon "$source_svg" --output icons
# Only the desktop bundles are configured: drop the mobile and Windows Store (appx) sets the
# CLI also writes.
rm -rf icons/android icons/ios icons/Square*Logo.png icons/StoreLogo.png
ls icons
